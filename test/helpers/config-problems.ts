import assert from 'node:assert/strict';
import { isCausewayError } from '../../registry/index.js';
import { parseConfigText } from '../../gateway/index.js';

/** The smallest valid gateway config, to append fields to. */
export const MINIMAL_CONFIG = `
cluster: cluster-a
trustDomain: cluster-a.example.org
dataDir: /var/lib/causeway
`;

/** Every problem the config loader names for `text` (it must refuse it with CW_CONFIG_INVALID). */
export function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    assert.ok(isCausewayError(err, 'CW_CONFIG_INVALID'), `expected CW_CONFIG_INVALID, got ${String(err)}`);
    return [...err.details];
  }
  assert.fail('config was accepted');
}
