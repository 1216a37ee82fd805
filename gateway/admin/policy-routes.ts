import type { IncomingMessage, ServerResponse } from 'node:http';
import { CausewayError, ErrorCodes, checkFields } from '../../registry/index.js';
import { parseKind } from '../policy/kind-names.js';
import type { PolicyStore } from '../policy/policy-store.js';
import { parsePolicyText } from '../policy/policy-yaml.js';
import type { StoredPolicy } from '../policy/policy-set.js';
import { POLICY_KINDS, type PolicyKind } from '../policy/schema.js';
import { readBodyText, readJsonObject, sendJson } from './http-json.js';

/** A policy body may hold many documents: larger than the other admin bodies, still bounded. */
export const MAX_POLICY_BODY_BYTES = 1024 * 1024;
const MAX_DOCUMENTS = 1000;
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/**
 * `/v1/policies…`: reads are open (policy is not secret, and explain shows as much); apply and
 * delete need the admin token. Returns false for a path that is not one of these routes.
 */
export async function servePolicies(
  req: IncomingMessage, res: ServerResponse, segments: readonly string[], store: PolicyStore, requireAuth: () => void,
): Promise<boolean> {
  const [, , kindText, name, extra] = segments;
  if (segments[0] !== 'v1' || segments[1] !== 'policies' || extra !== undefined) return false;
  const method = req.method ?? 'GET';
  const kind = kindText === undefined || kindText === '' ? undefined : kindOf(kindText);
  if (method === 'GET' && name === undefined) {
    const documents = store.current().documents.filter((d) => kind === undefined || d.kind === kind);
    sendJson(res, 200, { ...store.status(), documents: documents.map(view) });
    return true;
  }
  if (method === 'GET' && kind !== undefined && name !== undefined) {
    const found = store.get(kind, name);
    if (found === undefined) throw new CausewayError(ErrorCodes.POLICY_UNKNOWN, `no ${kind}/${name} is in force (version ${store.current().version})`);
    sendJson(res, 200, { version: store.current().version, policy: view(found) });
    return true;
  }
  if (method === 'POST' && kindText === undefined) {
    requireAuth();
    const body = await readDocuments(req);
    sendJson(res, 200, await store.apply(body.documents, body.source, body.errors));
    return true;
  }
  if (method === 'DELETE' && kind !== undefined && name !== undefined) {
    requireAuth();
    sendJson(res, 200, await store.delete(kind, name));
    return true;
  }
  return false;
}

function kindOf(text: string): PolicyKind {
  const kind = parseKind(text);
  if (kind === undefined) throw new CausewayError(ErrorCodes.POLICY_UNKNOWN, `"${text.slice(0, 100)}" is not a policy kind (${POLICY_KINDS.join(', ')})`);
  return kind;
}

function view(policy: StoredPolicy): Record<string, unknown> {
  return { kind: policy.kind, name: policy.name, origin: policy.origin, document: policy.document };
}

/**
 * The documents of an apply: JSON `{documents: [...], source?}` (`source` names them in a
 * refusal, such as the CLI's file name), or multi-document YAML text. YAML syntax errors go
 * with the set's other problems into one refusal.
 */
async function readDocuments(req: IncomingMessage): Promise<{ documents: unknown[]; source: string; errors: ReturnType<typeof parsePolicyText>['errors'] }> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (YAML_TYPES.includes(type)) {
    const parsed = parsePolicyText(await readBodyText(req, MAX_POLICY_BODY_BYTES), 'request');
    if (parsed.documents.length === 0 && parsed.errors.length === 0) throw new CausewayError(ErrorCodes.BODY_INVALID, 'the request body holds no document');
    return { documents: parsed.documents.map((d) => d.document), source: 'request', errors: parsed.errors };
  }
  const body = await readJsonObject(req, MAX_POLICY_BODY_BYTES);
  const problems: string[] = [];
  checkFields(body, ['documents', 'source'], '', problems);
  if (problems.length > 0) throw new CausewayError(ErrorCodes.BODY_INVALID, `${problems[0] ?? ''} (expected documents, source)`);
  const { documents, source } = body;
  if (!Array.isArray(documents) || documents.length === 0 || documents.length > MAX_DOCUMENTS) {
    throw new CausewayError(ErrorCodes.BODY_INVALID, `documents: is required, a list of 1 to ${MAX_DOCUMENTS} policy documents (or send application/yaml)`);
  }
  if (source !== undefined && (typeof source !== 'string' || !/^[^\s\p{Cc}][^\p{Cc}]{0,199}$/u.test(source))) {
    throw new CausewayError(ErrorCodes.BODY_INVALID, 'source: must be a name of 1 to 200 printable characters (a file name, say)');
  }
  return { documents, source: source ?? 'request', errors: [] };
}
