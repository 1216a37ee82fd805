import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import { sendError } from './http-json.js';

/**
 * Where `npm run build` writes the page (scripts/build-dashboard.mjs): dist/dashboard, beside
 * dist/gateway — this module runs as dist/gateway/admin/dashboard-routes.js.
 */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// The page loads nothing from anywhere but this admin address (it works offline), so the
// browser may refuse everything else; connect-src 'self' admits the /v1/live WebSocket.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The file names do not change between builds: a browser asks again each time (and gets a 304).
  'cache-control': 'no-cache',
};

/**
 * GET `/` (a redirect) and `/dashboard/*`: the files of the bundled page. `segments` are the
 * decoded path segments (http-json.ts decodePath). Answers and returns true for those paths,
 * false for any other (the admin server goes on to its 404).
 */
export async function serveDashboard(req: IncomingMessage, res: ServerResponse, segments: readonly string[], root = DASHBOARD_DIR): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const [first, ...rest] = segments;
  if (segments.length === 1 && (first === '' || first === 'dashboard')) {
    res.writeHead(302, { location: '/dashboard/', 'content-length': 0 }).end();
    return true;
  }
  if (first !== 'dashboard') return false;
  const file = fileOf(rest, root);
  if (file instanceof CausewayError) {
    sendError(res, file);
    return true;
  }
  if (!(await isFile(path.join(root, 'index.html')))) {
    sendError(res, new CausewayError(ErrorCodes.DASHBOARD_UNAVAILABLE,
      `the dashboard is not built: no ${path.join(root, 'index.html')} (npm run build bundles it into dist/dashboard)`));
    return true;
  }
  const info = await stat(file).catch(() => undefined);
  const type = CONTENT_TYPES[path.extname(file)];
  if (info === undefined || !info.isFile() || type === undefined) {
    sendError(res, new CausewayError(ErrorCodes.NOT_FOUND, `no dashboard file /dashboard/${rest.join('/')}`));
    return true;
  }
  const etag = `W/"${info.size.toString(16)}-${Math.trunc(info.mtimeMs).toString(16)}"`;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag, ...PAGE_HEADERS }).end();
    return true;
  }
  const body = await readFile(file);
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, etag, ...PAGE_HEADERS });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

/**
 * The file under `root` that the segments after /dashboard/ name (a trailing "/" is index.html),
 * or the refusal of a path that would leave `root`: a decoded segment that is "..", ".", empty,
 * or holds a separator or NUL (`..%2f` arrives as one segment "../").
 */
function fileOf(rest: readonly string[], root: string): string | CausewayError {
  const names = rest.length === 0 || rest.at(-1) === '' ? [...rest.slice(0, -1), 'index.html'] : [...rest];
  const bad = names.find((name) => name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name));
  const base = path.resolve(root);
  const file = path.resolve(base, ...names);
  if (bad !== undefined || !file.startsWith(base + path.sep)) {
    return new CausewayError(ErrorCodes.REQUEST_INVALID, `the path /dashboard/${rest.join('/')} leaves the dashboard's files`);
  }
  return file;
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() === true;
}
