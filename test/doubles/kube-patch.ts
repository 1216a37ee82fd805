// The PATCH bodies kube-apiserver accepts, by Content-Type
// (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/):
//   application/json-patch+json             RFC 6902 operations (client-node's default: its generated
//                                           patch calls pick the first type the spec lists)
//   application/merge-patch+json            RFC 7386 merge patch
//   application/strategic-merge-patch+json  built-in kinds only; here a merge patch (lists replaced,
//                                           never merged by key — the double has no patchMergeKey tables)
//   application/apply-patch+yaml            server-side apply; here a merge patch that may create the
//                                           object, without field ownership or conflicts
import { parse as parseYaml } from 'yaml';
import { KubeStatusError, statusErrors } from './kube-status.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386: objects merge key by key, `null` removes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6901 pointer to its reference tokens. */
function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw new Error(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path === '' ? [] : path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[]): { parent: Record<string, unknown> | unknown[]; last: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new Error(`doc is missing path: /${tokens.join('/')}`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new Error(`doc is missing path: /${tokens.join('/')}`);
  return { parent: cur, last: tokens[tokens.length - 1] ?? '' };
}

function read(doc: unknown, tokens: string[]): unknown {
  let cur: unknown = doc;
  for (const t of tokens) {
    cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (cur === undefined) throw new Error(`doc is missing path: /${tokens.join('/')}`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], token: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`invalid array index ${token}`);
  const i = Number(token);
  if (i > arr.length || (!forInsert && i === arr.length)) throw new Error(`array index ${i} out of bounds`);
  return i;
}

function remove(doc: unknown, tokens: string[]): unknown {
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false), 1)[0];
  if (!(last in parent)) throw new Error(`unable to remove nonexistent key: ${last}`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function add(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else parent[last] = value;
  return doc;
}

/** RFC 6902 on a copy of `doc`; a failed `test` or a missing path is the server's 422. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw statusErrors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let out: unknown = structuredClone(doc);
  try {
    for (const op of ops as Array<Record<string, unknown>>) {
      const tokens = pointer(op.path);
      switch (op.op) {
        case 'add': out = add(out, tokens, structuredClone(op.value)); break;
        case 'remove': remove(out, tokens); break;
        case 'replace': read(out, tokens); if (tokens.length === 0) out = structuredClone(op.value); else { remove(out, tokens); out = add(out, tokens, structuredClone(op.value)); } break;
        case 'move': { const v = remove(out, pointer(op.from)); out = add(out, tokens, v); break; }
        case 'copy': out = add(out, tokens, structuredClone(read(out, pointer(op.from)))); break;
        case 'test':
          if (JSON.stringify(read(out, tokens)) !== JSON.stringify(op.value)) throw new Error(`testing value /${tokens.join('/')} failed`);
          break;
        default: throw new Error(`Unexpected kind: ${String(op.op)}`);
      }
    }
  } catch (err) {
    if (err instanceof KubeStatusError) throw err;
    throw new KubeStatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${(err as Error).message}`);
  }
  return out;
}

/** Parses a PATCH body (JSON, or YAML for apply) into the value to apply; a malformed body is 400 as in kube-apiserver. */
export function decodePatch(type: PatchType, body: string): unknown {
  try {
    return type === 'apply' ? parseYaml(body) as unknown : JSON.parse(body) as unknown;
  } catch (err) {
    throw statusErrors.badRequest(`error decoding patch: ${(err as Error).message}`);
  }
}

export function applyPatch(type: PatchType, current: unknown, patch: unknown): unknown {
  if (type === 'json') return jsonPatch(current, patch);
  if (!isObject(patch)) throw statusErrors.badRequest('error decoding patch: the patch is not a JSON object');
  return mergePatch(current, patch);
}
