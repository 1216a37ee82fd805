import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../helpers/paths.js';

const LAYERS = ['registry', 'federation', 'gateway'] as const;
type Layer = (typeof LAYERS)[number];

function sourceFiles(layer: Layer): string[] {
  return readdirSync(path.join(REPO_ROOT, layer), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(REPO_ROOT, layer, f));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
}

/**
 * The design brief's one-way rule, registry ← federation ← gateway, and "other folders
 * import only that folder's index.ts". madge (npm test) separately fails on cycles.
 */
describe('layering', () => {
  for (const layer of LAYERS) {
    it(`${layer}/ imports only lower layers, and only through their index.ts`, () => {
      const problems: string[] = [];
      for (const file of sourceFiles(layer)) {
        for (const spec of importsOf(file)) {
          if (!spec.startsWith('.')) continue;
          const target = path.relative(REPO_ROOT, path.resolve(path.dirname(file), spec));
          const targetLayer = target.split(path.sep)[0] as Layer;
          if (targetLayer === layer) continue;
          const where = `${path.relative(REPO_ROOT, file)} imports ${spec}`;
          if (!LAYERS.includes(targetLayer)) problems.push(`${where}: outside the three layers`);
          else if (LAYERS.indexOf(targetLayer) > LAYERS.indexOf(layer)) problems.push(`${where}: points up the layers`);
          else if (target !== path.join(targetLayer, 'index.js')) problems.push(`${where}: must import ${targetLayer}/index.js`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  it('the import scanner sees imports (guards against a vacuous pass)', () => {
    const gatewayImports = sourceFiles('gateway').flatMap(importsOf);
    assert.ok(gatewayImports.includes('../registry/index.js'));
  });
});
