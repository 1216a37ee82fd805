import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../../registry/index.js';
import { SVID_RULES } from '../../../federation/index.js';
import { REPO_ROOT } from '../../helpers/paths.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(CW_[A-Z_]+)` \|/gm)].map((m) => m[1]));

  it('documents every error code the code defines, and no other', () => {
    const defined = new Set<string>(Object.values(ErrorCodes));
    assert.deepEqual([...defined].filter((c) => !documented.has(c)), [], 'codes missing from docs/errors.md');
    assert.deepEqual([...documented].filter((c) => c !== undefined && !defined.has(c)), [], 'documented codes the code does not define');
  });

  it('lists every X509-SVID rule name the verifier uses, and no other', () => {
    const rules = new Set([...doc.matchAll(/^\| `([a-z-]+)` \| (leaf|signing|any) \|/gm)].map((m) => m[1]));
    assert.deepEqual([...SVID_RULES].filter((r) => !rules.has(r)), [], 'rules missing from docs/errors.md');
    assert.deepEqual([...rules].filter((r) => r !== undefined && !(SVID_RULES as readonly string[]).includes(r)), [], 'documented rules the code does not have');
  });

  it('never reuses a code for two names', () => {
    const values = Object.values(ErrorCodes);
    assert.equal(new Set(values).size, values.length);
  });
});
