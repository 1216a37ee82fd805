import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const RUNTIME_FILE = 'gateway.json';

export interface RuntimeInfo {
  pid: number;
  identity: string;
  listeners: { eastWest: string; federation: string; outbound: string; admin: string; identity: string };
}

/**
 * `<dataDir>/gateway.json`: where a running gateway actually listens (a pidfile with
 * addresses). The CLI reads it when the config asks for port 0, so `--config` still finds
 * the admin API of a gateway started on ephemeral ports.
 */
export async function writeRuntimeFile(dataDir: string, info: RuntimeInfo): Promise<void> {
  const file = path.join(dataDir, RUNTIME_FILE);
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

export async function readRuntimeFile(dataDir: string): Promise<RuntimeInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path.join(dataDir, RUNTIME_FILE), 'utf8')) as RuntimeInfo;
    return typeof info.listeners?.admin === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the runtime file if this process wrote it (never another gateway's). */
export async function removeRuntimeFile(dataDir: string, pid = process.pid): Promise<void> {
  if ((await readRuntimeFile(dataDir))?.pid === pid) await rm(path.join(dataDir, RUNTIME_FILE), { force: true });
}
