import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../helpers/paths.js';

/**
 * The gateway image's Dockerfile, checked for its structure: Docker cannot run here, so this is
 * what can be known without building it — stages, base images pinned, what the runtime stage
 * holds, as whom and what it runs — and that it agrees with the Deployment that runs it.
 */

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions in order: continuation lines joined, comments and blank lines dropped. */
function instructionsOf(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = pending + line;
    pending = '';
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(whole);
    assert.ok(match !== null, `Dockerfile line ${start}: not an instruction: ${whole}`);
    out.push({ keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim(), line: start });
  });
  assert.equal(pending, '', 'the Dockerfile does not end inside a continued line');
  return out;
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+([a-z][a-z0-9_.-]*))?$/i.exec(instruction.args);
      assert.ok(match !== null, `line ${instruction.line}: FROM ${instruction.args}`);
      stages.push({ image: match[1] ?? '', name: match[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0 || instruction.keyword === 'ARG', `line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const stages = stagesOf(instructionsOf(dockerfile));
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  assert.ok(found !== undefined, `a stage named ${name}`);
  return found;
};
const runs = (s: Stage): string[] => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[]; bin: Record<string, string> };

/** COPY's flags and sources and destination (shell form; no paths with spaces here). */
function copyOf(instruction: Instruction): { from: string | undefined; sources: string[]; destination: string } {
  const words = instruction.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  return {
    from: flags.find((f) => f.startsWith('--from='))?.slice('--from='.length),
    sources: paths.slice(0, -1),
    destination: paths.at(-1) ?? '',
  };
}

const deployment = parseAllDocuments(readFileSync(path.join(REPO_ROOT, 'terraform', 'modules', 'gateway-kubernetes', 'manifests', '05-deployment.yaml'), 'utf8'))
  .map((d) => d.toJS() as Record<string, any>)
  .find((d) => d?.kind === 'Deployment') as Record<string, any>;

describe('Dockerfile', () => {
  it('has a build, a deps and a runtime stage, the runtime last', () => {
    assert.deepEqual(stages.map((s) => s.name), ['build', 'deps', 'runtime']);
  });

  it('pins every base image by a tag other than latest (or by digest)', () => {
    for (const { image } of stages) {
      const [reference, digest] = image.split('@');
      const tag = /:([^/:]+)$/.exec(reference ?? '')?.[1];
      assert.ok(tag !== undefined || digest !== undefined, `${image}: no tag`);
      assert.notEqual(tag, 'latest', image);
      if (digest !== undefined) assert.match(digest, /^sha256:[0-9a-f]{64}$/, image);
    }
  });

  it('builds with npm ci and npm run build; installs the production dependencies alone with npm ci --omit=dev', () => {
    assert.ok(runs(stage('build')).some((r) => /^npm ci\b/.test(r)), 'build: npm ci');
    assert.ok(runs(stage('build')).includes('npm run build'), 'build: npm run build');
    assert.ok(runs(stage('deps')).some((r) => /^npm ci\b.*--omit=dev/.test(r)), 'deps: npm ci --omit=dev');
    for (const name of ['build', 'deps']) assert.match(stage(name).image, /^node:\d+-[a-z]+-slim$/, `${name} on a slim Node image`);
  });

  it('the build context holds every file the build stage copies from it', () => {
    for (const instruction of stage('build').instructions.filter((i) => i.keyword === 'COPY')) {
      const copy = copyOf(instruction);
      assert.equal(copy.from, undefined);
      for (const source of copy.sources) assert.ok(existsSync(path.join(REPO_ROOT, source)), `${source} exists`);
    }
  });

  it('the runtime stage is distroless Node.js, runs nothing, and holds only what the npm package ships and its production node_modules', () => {
    const runtime = stage('runtime');
    assert.match(runtime.image, /^gcr\.io\/distroless\/nodejs\d+-debian\d+:/);
    assert.deepEqual(runs(runtime), [], 'no RUN: a distroless image has no shell');
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD').map(copyOf);
    for (const copy of copies) assert.ok(copy.from === 'build' || copy.from === 'deps', `${copy.sources.join(' ')}: copied from a stage, not the build context`);
    assert.deepEqual(copies.filter((c) => c.from === 'deps').map((c) => [c.sources, c.destination]), [[['/src/node_modules'], 'node_modules']]);
    const fromBuild = copies.filter((c) => c.from === 'build').map((c) => c.destination);
    const shipped = manifest.files.filter((f) => f !== 'README.md');
    assert.deepEqual(fromBuild.sort(), ['package.json', ...shipped].sort(), 'the package.json "files" (README aside) and package.json');
    assert.ok(existsSync(path.join(REPO_ROOT, 'federation', 'peering', 'federation.proto')));
  });

  it('runs as a numeric non-root user, the one the Deployment names', () => {
    const users = stage('runtime').instructions.filter((i) => i.keyword === 'USER').map((i) => i.args);
    assert.equal(users.length, 1);
    const match = /^(\d+)(?::(\d+))?$/.exec(users[0] ?? '');
    assert.ok(match !== null, `USER ${users[0]}: numeric, so the kubelet can enforce runAsNonRoot`);
    assert.notEqual(Number(match[1]), 0, 'not root');
    assert.notEqual(Number(match[2] ?? 1), 0, 'not the root group');
    assert.equal(deployment.spec.template.spec.securityContext.runAsUser, Number(match[1]));
    assert.equal(deployment.spec.template.spec.securityContext.runAsGroup, Number(match[2]));
  });

  it('its ENTRYPOINT is `causeway gateway --config /etc/causeway/gateway.yaml`, the file the Deployment mounts', () => {
    const runtime = stage('runtime');
    const entrypoints = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT');
    assert.equal(entrypoints.length, 1);
    const argv = JSON.parse(entrypoints[0]?.args ?? '') as string[];
    const workdir = runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/';
    assert.deepEqual(argv, ['/nodejs/bin/node', path.posix.join(workdir, manifest.bin.causeway ?? ''), 'gateway', '--config', '/etc/causeway/gateway.yaml']);
    assert.equal(runtime.instructions.some((i) => i.keyword === 'CMD'), false, 'no CMD appended to the arguments');
    const container = deployment.spec.template.spec.containers[0];
    assert.equal(container.command, undefined);
    assert.equal(container.args, undefined);
    const mount = (container.volumeMounts as Array<Record<string, string>>).find((m) => m.name === 'config');
    assert.equal(path.posix.join(mount?.mountPath ?? '', 'gateway.yaml'), argv.at(-1));
  });

  it('exposes the listener ports', () => {
    const exposed = stage('runtime').instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number);
    assert.deepEqual(exposed.sort(), [15000, 15001, 15012, 15017, 15443]);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps the host\'s node_modules, dist and .git out of the build context', () => {
    for (const p of ['node_modules', 'dist', '.git']) assert.ok(patterns.includes(p), p);
  });

  it('keeps in everything the build stage copies', () => {
    const sources = stage('build').instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copyOf(i).sources);
    for (const source of sources) {
      const top = source.split('/')[0] ?? '';
      assert.ok(!patterns.includes(source) && !patterns.includes(top), `${source} is not ignored`);
    }
  });
});
