import { CausewayError, ErrorCodes, parseServiceKey } from '../../registry/index.js';
import { parseSpiffeId } from '../../federation/index.js';
import { describeRule, type AccessScope } from './decide-access.js';
import { formatLabels, type Candidate, type Considered, type RouteTarget } from './decide-route.js';
import type { PolicyEngine } from './policy-engine.js';

/** What `causeway explain` asks: who calls what, and (for HTTP) with which method and path. */
export interface ExplainQuery {
  /** A SPIFFE ID, or `anonymous`. */
  from: string;
  /** `<service>.<namespace>` or `<service>.<namespace>:<port>`. */
  to: string;
  method?: string | undefined;
  path?: string | undefined;
}

export interface ExplainedCandidate {
  order: number;
  kind: 'local' | 'remote';
  cluster: string;
  /** `ip:port` of a local endpoint, or the remote gateway's SPIFFE ID. */
  via: string;
  service: string;
  subset: string | undefined;
  why: string;
}

export interface Explanation {
  caller: { identity: string; trustDomain: string | undefined; classes: string[] };
  service: string;
  port: number;
  protocol: string;
  /** What was judged: the HTTP request, or the byte stream of a tcp port. */
  request: string;
  access: {
    allowed: boolean;
    rule: string | undefined;
    reason: string;
    /** Where the verdict holds. */
    scope: string;
  };
  policy: string;
  classRoute: { class: string; policy: string } | undefined;
  split: { policy: string; backend: string; weight: number } | undefined;
  candidates: ExplainedCandidate[];
  considered: Considered[];
  refusal: { code: string; message: string } | undefined;
  retries: { attempts: number; on: string[]; perTryTimeoutMs: number | undefined; budgetPercent: number; timeoutMs: number | undefined };
  /** The policy set version the answer was computed on. */
  policyVersion: number;
}

const METHOD = /^[A-Z]{1,20}$/;

function bad(message: string): CausewayError {
  return new CausewayError(ErrorCodes.BODY_INVALID, message);
}

/**
 * Answers "why would this request be allowed or denied, and where would it go" by calling the
 * very decisions the data plane calls (PolicyEngine.access and .route) on the same snapshot —
 * never a re-implementation. The access verdict is this gateway's: it holds for its own
 * endpoints; a remote cluster's gateway judges requests to its endpoints by its own policies.
 */
export function explain(engine: PolicyEngine, query: ExplainQuery): Explanation {
  let spiffeId: string | undefined;
  if (query.from !== 'anonymous') {
    try {
      spiffeId = parseSpiffeId(query.from).uri;
    } catch (err) {
      throw bad(`from: ${(err as Error).message} (or say anonymous)`);
    }
  }
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(query.to);
  if (match === null || parseServiceKey(match[1]!) === undefined) throw bad(`to: "${query.to.slice(0, 200)}" is not <service>.<namespace>[:<port>]`);
  const key = match[1]!;
  const resolved = engine.catalog.resolve(key);
  if (resolved === undefined) throw new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${key} is not in the federated catalog`);
  let port = match[2] === undefined ? undefined : Number(match[2]);
  if (port === undefined) {
    if (resolved.ports.length !== 1) throw bad(`to: ${key} has ports ${resolved.ports.map((p) => p.port).join(', ')}; name one as ${key}:<port>`);
    port = resolved.ports[0]!.port;
  }
  const servicePort = resolved.ports.find((p) => p.port === port);
  if (servicePort === undefined) throw new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${key} has no port ${port} (ports: ${resolved.ports.map((p) => p.port).join(', ')})`);
  const method = (query.method ?? 'GET').toUpperCase();
  if (!METHOD.test(method)) throw bad(`method: "${String(query.method).slice(0, 40)}" is not an HTTP method`);
  const path = query.path ?? '/';
  if (!path.startsWith('/') || path.length > 4096) throw bad(`path: must start with / (got "${path.slice(0, 100)}")`);
  const scope: AccessScope = servicePort.protocol === 'tcp' ? 'tcp' : { method, path };

  const set = engine.policies();
  const caller = engine.caller(spiffeId);
  const access = engine.access(caller, key, scope, set);
  const decision = engine.route(caller, key, port, scope, { explain: true });
  const { retries } = decision.failover;
  return {
    caller: { identity: spiffeId ?? 'anonymous', trustDomain: caller.trustDomain, classes: [...caller.classes].sort() },
    service: key,
    port,
    protocol: servicePort.protocol,
    request: scope === 'tcp' ? 'a TCP connection' : `${method} ${path}`,
    access: {
      allowed: access.allowed,
      rule: access.rule === undefined ? undefined : `${describeRule(access.rule)} (${access.rule.action})`,
      reason: access.reason,
      scope: 'this gateway, for its own endpoints; a remote cluster\'s gateway judges requests to its endpoints by its own policies',
    },
    policy: decision.failover.policy,
    classRoute: decision.classRoute,
    split: decision.split,
    candidates: decision.candidates.map((c, i) => describeCandidate(c, i + 1, engine.catalog.localCluster)),
    considered: decision.considered,
    refusal: decision.refusal,
    retries: {
      attempts: retries.attempts, on: [...retries.on].sort(), perTryTimeoutMs: retries.perTryTimeoutMs,
      budgetPercent: retries.budgetPercent, timeoutMs: decision.failover.timeoutMs,
    },
    policyVersion: set.version,
  };
}

function describeCandidate(candidate: Candidate, order: number, localCluster: string): ExplainedCandidate {
  const target: RouteTarget = candidate.target;
  return target.kind === 'local'
    ? { order, kind: 'local', cluster: localCluster, via: `${target.endpoint.address}:${target.port}`, service: `${candidate.service}:${candidate.port}`, subset: undefined, why: candidate.why }
    : {
      order, kind: 'remote', cluster: target.cluster, via: target.gateway.identity, service: `${candidate.service}:${candidate.port}`,
      subset: target.subset === undefined ? undefined : formatLabels(target.subset), why: candidate.why,
    };
}
