import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './paths.js';

/** A systemd unit as sections of key=value lines (comments and blank lines dropped); repeated keys keep every value. */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header !== null) {
      current = new Map();
      sections.set(header[1] ?? '', current);
      return;
    }
    const pair = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(pair !== null && current !== undefined, `line ${i + 1} is not key=value inside a section: ${raw}`);
    const values = current.get(pair[1] ?? '') ?? [];
    values.push(pair[2] ?? '');
    current.set(pair[1] ?? '', values);
  });
  return sections;
}

/** Why `systemd-analyze verify` cannot run here, or undefined when it can. */
export function systemdAnalyzeMissing(): string | undefined {
  const run = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? undefined : 'systemd-analyze is not installed (scripts/install-test-tools.sh installs the systemd package)';
}

/**
 * `systemd-analyze verify` on a copy of `unitFile` whose ExecStart is /bin/true (verify checks
 * that the binary exists). Returns the lines of its output about the unit and its exit status.
 */
export async function verifyUnit(unitFile: string): Promise<{ aboutUnit: string[]; status: number | null; stderr: string }> {
  const tmp = await makeTempDir('unit-verify');
  try {
    const name = path.basename(unitFile);
    const copy = path.join(tmp.dir, name);
    writeFileSync(copy, readFileSync(unitFile, 'utf8').replace(/^ExecStart=\S+/m, 'ExecStart=/bin/true'));
    const run = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
    const aboutUnit = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.includes(name));
    return { aboutUnit, status: run.status, stderr: run.stderr };
  } finally {
    await tmp.remove();
  }
}
