import path from 'node:path';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { loadConfig } from '../config/load-config.js';
import { formatHostPort, parseHostPort } from '../config/address.js';
import { ADMIN_TOKEN_FILE } from '../admin/admin-token.js';
import { readRuntimeFile } from '../runtime-file.js';
import { readTokenFile, tokenFromEnv } from './token-file.js';

export interface AdminTarget {
  baseUrl: string;
  token: string | undefined;
}

export interface TargetFlags {
  config?: string | undefined;
  admin?: string | undefined;
  'token-file'?: string | undefined;
}

export const DEFAULT_ADMIN = '127.0.0.1:15000';

/**
 * The admin API base URL from `--admin` or $CAUSEWAY_ADMIN: `host:port` (an IP literal, as
 * everywhere in Causeway; `[v6]:port` too) or an `http://` / `https://` URL. Anything else
 * is a usage error naming the flag, not an "Invalid URL" from deep inside fetch.
 */
export function adminBaseUrl(value: string, flag = '--admin'): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const address = parseHostPort(value);
    if (typeof address === 'string') throw new CausewayError(ErrorCodes.USAGE, `${flag}: ${address} (expected host:port such as ${DEFAULT_ADMIN}, or an http:// URL)`);
    return `http://${formatHostPort(address)}`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CausewayError(ErrorCodes.USAGE, `${flag}: "${value}" is not a URL (expected host:port such as ${DEFAULT_ADMIN}, or an http:// URL)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CausewayError(ErrorCodes.USAGE, `${flag}: ${url.protocol} is not http: or https:`);
  return url.origin;
}

/**
 * Where the CLI talks to: `--config FILE` (admin address and data dir from the gateway's
 * own config), else `--admin` / CAUSEWAY_ADMIN, with the token from `--token-file`,
 * CAUSEWAY_ADMIN_TOKEN, or nothing (read-only commands need none).
 */
export async function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Promise<AdminTarget> {
  const admin = flags.admin === undefined ? undefined : adminBaseUrl(flags.admin);
  if (flags.config !== undefined) {
    const config = await loadConfig(flags.config);
    const host = config.listen.admin.host === '0.0.0.0' ? '127.0.0.1' : config.listen.admin.host === '::' ? '::1' : config.listen.admin.host;
    let address = formatHostPort({ host, port: config.listen.admin.port });
    if (config.listen.admin.port === 0 && admin === undefined) {
      // Ephemeral port: the running gateway recorded where it actually listens.
      const runtime = await readRuntimeFile(config.dataDir);
      if (runtime === undefined) {
        throw new CausewayError(ErrorCodes.ADMIN_UNREACHABLE, `${flags.config} uses an ephemeral admin port and no running gateway recorded one in ${config.dataDir}`);
      }
      address = runtime.listeners.admin;
    }
    return {
      baseUrl: admin ?? `http://${address}`,
      token: await readTokenFile(flags['token-file'] ?? path.join(config.dataDir, ADMIN_TOKEN_FILE), flags['token-file'] !== undefined),
    };
  }
  const baseUrl = admin ?? adminBaseUrl(env.CAUSEWAY_ADMIN ?? DEFAULT_ADMIN, '$CAUSEWAY_ADMIN');
  const token = flags['token-file'] !== undefined ? await readTokenFile(flags['token-file'], true) : tokenFromEnv(env.CAUSEWAY_ADMIN_TOKEN);
  return { baseUrl, token };
}

/** Calls the admin API; a JSON error body becomes a CausewayError with the server's code. */
export async function adminRequest<T>(target: AdminTarget, method: string, pathname: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(new URL(pathname, target.baseUrl), {
      method, headers, body: body === undefined ? null : JSON.stringify(body), signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CausewayError(ErrorCodes.ADMIN_UNREACHABLE, `cannot reach the gateway admin API at ${target.baseUrl}: ${describeError((err as { cause?: unknown }).cause ?? err)}`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CausewayError(ErrorCodes.ADMIN_UNREACHABLE, `${target.baseUrl} answered ${response.status} with a non-JSON body`);
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: string[] } }).error;
    const code = Object.values(ErrorCodes).find((c) => c === error?.code) ?? ErrorCodes.INTERNAL;
    throw new CausewayError(code, error?.message ?? `admin API answered ${response.status}`, { details: error?.details ?? [] });
  }
  return parsed as T;
}
