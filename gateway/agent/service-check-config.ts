import { isIP } from 'node:net';
import { checkFields, isPlainObject } from '../../registry/index.js';
import { formatHostPort, parseHostPort } from '../config/address.js';
import { readers } from '../config/validate-limits.js';

/**
 * A health check of one service on the agent's host, the way a Consul agent check reads
 * (`check: {http | tcp | args, interval, timeout}`), with Envoy's thresholds on top. The
 * agent config names it per service; `parseCheck` turns it into a `ServiceCheck`, resolved
 * once (defaults applied, URL taken apart) and frozen.
 */

export interface CheckTiming {
  /** From the end of one check to the start of the next (Envoy counts it the same way). */
  intervalMs: number;
  /** Bounds one whole check: connect and answer, or the command's run. Below intervalMs. */
  timeoutMs: number;
  /** Passes in a row that make an unhealthy service healthy (a check's very first pass is enough). */
  healthyThreshold: number;
  /** Failures in a row that make a healthy service unhealthy. */
  unhealthyThreshold: number;
}

/** `GET <url>`: healthy on 2xx/3xx, or on one of `expectStatus`. */
export interface HttpCheckTarget {
  kind: 'http';
  url: string;
  /** The IP literal dialled (`localhost` is 127.0.0.1; other names are never resolved). */
  address: string;
  port: number;
  /** Path and query, as sent. */
  path: string;
  /** The Host field: the URL's authority as written. */
  host: string;
  expectStatus: readonly number[] | undefined;
}

/** A TCP connect: healthy when the connection is established. */
export interface TcpCheckTarget {
  kind: 'tcp';
  address: string;
  port: number;
}

/** A program run with arguments, no shell: healthy on exit status 0 (Consul's `args`). */
export interface CommandCheckTarget {
  kind: 'command';
  argv: readonly string[];
}

export type ServiceCheck = (HttpCheckTarget | TcpCheckTarget | CommandCheckTarget) & CheckTiming;
export type CheckKind = ServiceCheck['kind'];

export const DEFAULT_CHECK_TIMING: Readonly<CheckTiming> = Object.freeze({
  intervalMs: 10_000,
  timeoutMs: 2_000,
  // The thresholds of the gateway's own FailoverPolicy health checks: one number set across the project.
  healthyThreshold: 2,
  unhealthyThreshold: 2,
});

const CHECK_FIELDS = ['http', 'tcp', 'command', 'expectStatus', 'interval', 'timeout', 'healthyThreshold', 'unhealthyThreshold'] as const;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 86_400_000;
const MIN_TIMEOUT_MS = 10;
const MAX_ARGS = 64;
const MAX_ARG_LENGTH = 4096;

/**
 * Validates one check config `{http | tcp | command, expectStatus?, interval?, timeout?,
 * healthyThreshold?, unhealthyThreshold?}` found at `at` (`services[0].check`). Every
 * problem is pushed onto `errors` as `<at>.<field>: <what is wrong>`; undefined when there
 * was any. Defaults: interval 10s; timeout 2s, or half the interval when that is shorter;
 * thresholds 2 and 2.
 */
export function parseCheck(value: unknown, at: string, errors: string[]): ServiceCheck | undefined {
  if (!isPlainObject(value)) {
    errors.push(`${at}: must be a mapping with one of http, tcp, command (and interval, timeout, healthyThreshold, unhealthyThreshold)`);
    return undefined;
  }
  const before = errors.length;
  checkFields(value, CHECK_FIELDS, at, errors);
  const kinds = (['http', 'tcp', 'command'] as const).filter((kind) => value[kind] !== undefined);
  if (kinds.length !== 1) {
    errors.push(`${at}: must set exactly one of http, tcp, command${kinds.length > 1 ? ` (it sets ${kinds.join(' and ')})` : ''}`);
  }
  if (value.expectStatus !== undefined && value.http === undefined) errors.push(`${at}.expectStatus: applies to http checks only`);
  const target = kinds.length !== 1 ? undefined
    : kinds[0] === 'http' ? httpTarget(value.http, value.expectStatus, at, errors)
      : kinds[0] === 'tcp' ? tcpTarget(value.tcp, `${at}.tcp`, errors)
        : commandTarget(value.command, `${at}.command`, errors);
  const timing = timingOf(value, at, errors);
  if (target === undefined || errors.length > before) return undefined;
  return Object.freeze({ ...target, ...timing });
}

/** What a check looks at, for logs and the status: the URL, `host:port`, or the command line. */
export function describeTarget(check: ServiceCheck): string {
  if (check.kind === 'http') return check.url;
  if (check.kind === 'tcp') return formatHostPort({ host: check.address, port: check.port });
  return check.argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}

function timingOf(value: Record<string, unknown>, at: string, errors: string[]): CheckTiming {
  const { count, ms } = readers(errors);
  const d = DEFAULT_CHECK_TIMING;
  const intervalMs = ms(value.interval, `${at}.interval`, d.intervalMs, MIN_INTERVAL_MS, MAX_INTERVAL_MS);
  let timeoutMs = Math.min(d.timeoutMs, Math.floor(intervalMs / 2));
  if (value.timeout !== undefined) {
    timeoutMs = ms(value.timeout, `${at}.timeout`, timeoutMs, MIN_TIMEOUT_MS, MAX_INTERVAL_MS);
    // A check still running when the next is due would overlap it; Consul and Envoy ask the same.
    if (timeoutMs >= intervalMs) errors.push(`${at}.timeout: ${String(value.timeout)} must be shorter than the interval (${intervalMs} ms)`);
  }
  return {
    intervalMs, timeoutMs,
    healthyThreshold: count(value.healthyThreshold, `${at}.healthyThreshold`, d.healthyThreshold, 1, 100),
    unhealthyThreshold: count(value.unhealthyThreshold, `${at}.unhealthyThreshold`, d.unhealthyThreshold, 1, 100),
  };
}

/**
 * The address dialled for a host written in a check: an IP literal as it is, `localhost` as
 * 127.0.0.1 (what /etc/hosts says on every distribution); any other name is refused, as
 * everywhere in Causeway, rather than resolved at each check.
 */
function addressOf(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return '127.0.0.1';
  return isIP(bare) === 0 ? undefined : bare;
}

function httpTarget(value: unknown, expect: unknown, at: string, errors: string[]): HttpCheckTarget | undefined {
  const where = `${at}.http`;
  if (typeof value !== 'string' || value === '') {
    errors.push(`${where}: must be a URL such as "http://127.0.0.1:8080/health"`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    errors.push(`${where}: "${value.slice(0, 200)}" is not a URL (such as "http://127.0.0.1:8080/health")`);
    return undefined;
  }
  const expectStatus = expectStatusOf(expect, `${at}.expectStatus`, errors);
  const address = addressOf(url.hostname);
  const problems = [
    url.protocol !== 'http:' ? `${url.protocol} is not supported: the check speaks plain HTTP to a service on this host (http://...)` : undefined,
    url.username !== '' || url.password !== '' ? 'must not carry a user or password' : undefined,
    address === undefined ? `"${url.hostname}" is not an IP address or localhost (names are never resolved)` : undefined,
  ].filter((p): p is string => p !== undefined);
  for (const problem of problems) errors.push(`${where}: ${problem}`);
  if (problems.length > 0 || address === undefined) return undefined;
  return {
    kind: 'http', url: url.href, address, port: url.port === '' ? 80 : Number(url.port),
    path: `${url.pathname}${url.search}`, host: url.host, expectStatus,
  };
}

function expectStatusOf(value: unknown, at: string, errors: string[]): readonly number[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  const valid = list.length > 0 && list.length <= 100 && list.every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 599);
  if (!valid) {
    errors.push(`${at}: must be a status code from 100 to 599, or a list of them (such as [200, 204])`);
    return undefined;
  }
  return Object.freeze([...(list as number[])]);
}

function tcpTarget(value: unknown, at: string, errors: string[]): TcpCheckTarget | undefined {
  if (typeof value !== 'string' || value === '') {
    errors.push(`${at}: must be "host:port" such as "127.0.0.1:5432"`);
    return undefined;
  }
  const local = /^localhost:/i.exec(value) === null ? value : `127.0.0.1${value.slice('localhost'.length)}`;
  const parsed = parseHostPort(local);
  if (typeof parsed === 'string') errors.push(`${at}: ${parsed.replace('an IP address', 'an IP address or localhost')}`);
  else if (parsed.port === 0) errors.push(`${at}: port 0 is not a port a service listens on`);
  else return { kind: 'tcp', address: parsed.host, port: parsed.port };
  return undefined;
}

function commandTarget(value: unknown, at: string, errors: string[]): CommandCheckTarget | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ARGS) {
    errors.push(`${at}: must be a list of 1 to ${MAX_ARGS} strings, the program then its arguments (run without a shell), such as ["/usr/bin/pg_isready", "-q"]`);
    return undefined;
  }
  const before = errors.length;
  value.forEach((arg: unknown, i) => {
    if (typeof arg !== 'string' || arg.length > MAX_ARG_LENGTH || arg.includes('\0')) {
      errors.push(`${at}[${i}]: must be a string of at most ${MAX_ARG_LENGTH} characters without NUL`);
    }
  });
  const program = value[0];
  if (typeof program === 'string' && (program === '' || (program.includes('/') && !program.startsWith('/')))) {
    // A relative path would depend on the agent's working directory ("/" under systemd).
    errors.push(`${at}[0]: "${program}" must be an absolute path or a program name looked up in PATH`);
  }
  return errors.length > before ? undefined : { kind: 'command', argv: Object.freeze([...(value as string[])]) };
}
