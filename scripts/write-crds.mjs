#!/usr/bin/env node
// Writes the policy kinds' CustomResourceDefinitions (derived from gateway/policy/schema.ts by
// dist/gateway/policy/crd.js) into terraform/modules/gateway-kubernetes/crds/. `npm run crds`
// builds first; test/unit/gateway/policy/crd.test.ts fails when the committed files drift.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { CRD_DIRECTORY, crdFiles, crdKustomization } = await import(path.join(root, 'dist', 'gateway', 'policy', 'crd.js'));
const dir = path.join(root, CRD_DIRECTORY);
await mkdir(dir, { recursive: true });
for (const { file, text } of [...crdFiles(), crdKustomization()]) {
  await writeFile(path.join(dir, file), text);
  process.stdout.write(`wrote ${path.join(CRD_DIRECTORY, file)}\n`);
}
