// Export to chosen peers (issue 11, "Selective export"), with three gateway processes: A
// exports only.demo to cluster-b alone and all.demo to every peer; A dials B and C. B must
// see both, C only all.demo — and C's RECEIVED link frames must never have named only.demo
// (read from C's debug log, where the link session names every record a peer sent: the
// filter is at the sender, not a hiding at the receiver). Then exportTo is narrowed and
// widened by `causeway reload` of A's config, by name, by a peer's announced region, and by
// a label A's operator gave C's peering (`peer add --label`).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

type Side = 'a' | 'b' | 'c';
const CLUSTER: Record<Side, string> = { a: 'cluster-a', b: 'cluster-b', c: 'cluster-c' };
const REGION: Record<Side, string> = { a: 'eu-west-1', b: 'eu-west-1', c: 'us-east-1' };

interface ServicesAnswer {
  services: Array<{ key: string; clusters: Record<string, { exportTo?: string[]; endpoints: unknown[] }> }>;
}
interface PeersAnswer {
  peers: Array<{ cluster: string; state: string; labels: Record<string, string>; exportedServices: number }>;
}

/** A's service `name.demo`, exported (to `exportTo` when given). */
function service(name: string, exportTo?: string[]): Record<string, unknown> {
  return {
    name, namespace: 'demo', export: true, ...(exportTo === undefined ? {} : { exportTo }),
    ports: [{ name: 'http', port: 8080, protocol: 'http' }],
    endpoints: [{ address: '127.0.0.1', ports: { http: 18080 }, identity: `spiffe://cluster-a.causeway.test/ns/demo/sa/${name}`, kind: 'vm' }],
  };
}

describe('exportTo across three gateways: filtered at the sender', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const gateways: Partial<Record<Side, GatewayProcess>> = {};
  const files = {} as Record<Side, string>;
  const logs = {} as Record<Side, string>;

  const configOf = (side: Side, services: Array<Record<string, unknown>> = []): Record<string, unknown> => ({
    cluster: CLUSTER[side], trustDomain: `${CLUSTER[side]}.causeway.test`, gatewayName: `gw-${side}`,
    locality: { cloud: 'aws', region: REGION[side], zone: `${REGION[side]}a` },
    dataDir: path.join(tmp.dir, CLUSTER[side]),
    listen: { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' },
    logLevel: 'debug', services,
  });
  const writeA = (services: Array<Record<string, unknown>>): Promise<void> => writeFile(files.a, stringify(configOf('a', services)));
  const servicesOf = async (side: Side): Promise<string[]> =>
    (await getJson<ServicesAnswer>(`http://${gateways[side]!.listeners.admin}/v1/services`)).services
      .filter((s) => (s.clusters[CLUSTER.a]?.endpoints.length ?? 0) > 0).map((s) => s.key).sort();
  const sees = (side: Side, expected: string[]) => async (): Promise<true | undefined> =>
    (JSON.stringify(await servicesOf(side)) === JSON.stringify(expected) ? true : undefined);
  /** Every record key C's link session logged as received from A, in order. */
  const receivedBy = async (side: Side): Promise<string[]> => (await readFile(logs[side], 'utf8')).split('\n')
    .filter((line) => line.includes('"link records received"'))
    .flatMap((line) => (JSON.parse(line) as { records: string[] }).records);
  const reloadA = async (): Promise<void> => {
    const reloaded = await runCli(['reload', '--config', files.a]);
    assert.equal(reloaded.code, 0, reloaded.stderr);
  };

  before(async () => {
    tmp = await makeTempDir('export-to');
    for (const side of ['a', 'b', 'c'] as const) {
      files[side] = path.join(tmp.dir, `${CLUSTER[side]}.yaml`);
      logs[side] = path.join(tmp.dir, `${side}.log`);
      await writeFile(files[side], stringify(configOf(side)));
    }
    await writeA([service('all'), service('only', ['cluster-b'])]);
    await Promise.all((['a', 'b', 'c'] as const).map(async (side) => {
      gateways[side] = await spawnGateway(files[side], { logFile: logs[side] });
    }));
  });

  after(async () => {
    await Promise.allSettled(Object.values(gateways).map((g) => g.stop(3000)));
    await tmp?.remove();
  });

  it('B receives all.demo and only.demo; C receives all.demo, and no frame to C ever named only.demo', async () => {
    for (const side of ['b', 'c'] as const) {
      const minted = await runCli(['peer', 'token', '--config', files[side]]);
      assert.equal(minted.code, 0, minted.stderr);
      // A's operator labels C's peering: what "env=staging" selectors match later on.
      const added = await runCli(['peer', 'add', minted.stdout.trim(), ...(side === 'c' ? ['--label', 'env=staging'] : []), '--config', files.a]);
      assert.equal(added.code, 0, added.stderr);
    }
    await waitFor('B to hold all.demo and only.demo', sees('b', ['all.demo', 'only.demo']));
    await waitFor('C to hold all.demo', sees('c', ['all.demo']));
    // What C's link received (its log lines are copied from its stdout a moment later).
    const toC = await waitFor('C\'s log of the snapshot it received', async () => {
      const received = await receivedBy('c');
      return received.includes('all.demo') ? received : undefined;
    });
    assert.ok(!toC.some((key) => key.startsWith('only.demo')), `C received ${toC.join(', ')}`);
    // The same log of B does name it: the check above would see it if it had crossed.
    await waitFor('B\'s log naming only.demo', async () => ((await receivedBy('b')).includes('only.demo') ? true : undefined));
    // Not even a tombstone of it in C's catalog.
    const inC = await getJson<ServicesAnswer>(`http://${gateways.c!.listeners.admin}/v1/services`);
    assert.equal(inC.services.find((s) => s.key === 'only.demo'), undefined);

    // A says whom it exports what to; what crossed carries no exportTo.
    const inA = await getJson<ServicesAnswer>(`http://${gateways.a!.listeners.admin}/v1/services`);
    assert.deepEqual(inA.services.find((s) => s.key === 'only.demo')?.clusters[CLUSTER.a]?.exportTo, ['cluster-b']);
    const inB = await getJson<ServicesAnswer>(`http://${gateways.b!.listeners.admin}/v1/services`);
    assert.equal(inB.services.find((s) => s.key === 'only.demo')?.clusters[CLUSTER.a]?.exportTo, undefined);
    const peers = (await getJson<PeersAnswer>(`http://${gateways.a!.listeners.admin}/v1/peers`)).peers;
    assert.deepEqual(peers.find((p) => p.cluster === CLUSTER.c)?.labels, { cloud: 'aws', region: 'us-east-1', env: 'staging' });
    assert.deepEqual(peers.map((p) => [p.cluster, p.exportedServices]).sort(), [[CLUSTER.b, 2], [CLUSTER.c, 1]]);
  });

  it('a reload narrows all.demo to B\'s region and widens only.demo to C\'s label: C loses one, gains the other', async () => {
    const before = (await receivedBy('c')).length;
    await writeA([service('all', ['region=eu-west-1']), service('only', ['cluster-b', 'env=staging'])]);
    await reloadA();
    await waitFor('C to hold only.demo, not all.demo', sees('c', ['only.demo']));
    await waitFor('B to hold both still', sees('b', ['all.demo', 'only.demo']));
    // C was told to drop all.demo (a tombstone at its new version), then sent only.demo.
    const toC = await waitFor('C\'s log of the change', async () => {
      const received = (await receivedBy('c')).slice(before);
      return received.includes('only.demo') && received.includes('all.demo (deleted)') ? received : undefined;
    });
    assert.ok(!toC.includes('all.demo'), `C received ${toC.join(', ')}`);
  });

  it('a reload back to only.demo for cluster-b withdraws it from C; all.demo for everyone returns to C', async () => {
    const before = (await receivedBy('c')).length;
    await writeA([service('all'), service('only', ['cluster-b'])]);
    await reloadA();
    await waitFor('C to hold all.demo alone again', sees('c', ['all.demo']));
    await waitFor('B to hold both still', sees('b', ['all.demo', 'only.demo']));
    await waitFor('C\'s log of the tombstone of only.demo', async () =>
      ((await receivedBy('c')).slice(before).includes('only.demo (deleted)') ? true : undefined));
  });
});
