// The gRPC rows: unary calls straight to the grpc-js backend, and through A's outbound
// listener (HTTP/2 cleartext with prior knowledge, `:authority` = the mesh name) to the same
// backend behind B. A build whose outbound listener does not speak h2c gets a row that says
// so, never a number.
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { connect } from 'node:net';
import { cpuSnapshot } from './cpu.js';
import { runH2load } from './load/h2load.js';
import { MESH, type CausewayPair } from './peers/causeway.js';
import { BENCH_SERVICE, GRPC_METHOD } from './peers/grpc-backend.js';
import type { SaturationRow, SkippedRow } from './results.js';

// RFC 9113 §3.4: the client connection preface, then an empty SETTINGS frame.
const PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/** Whether the listener answers an HTTP/2 preface with an HTTP/2 SETTINGS frame. */
function speaksH2c(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(PREFACE));
    let seen = Buffer.alloc(0);
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(3000, () => done(false));
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      if (seen.length >= 9) done(seen[3] === 4 && !seen.subarray(0, 5).equals(Buffer.from('HTTP/')));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

/** One real grpc-js call: h2load counts HTTP 200s and cannot see a grpc-status in the trailers. */
function grpcCall(port: number, authority: string): Promise<void> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.default_authority': authority });
  const definition = BENCH_SERVICE.echo!;
  return new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(GRPC_METHOD, definition.requestSerialize, definition.responseDeserialize, Buffer.alloc(16, 'q'), new Metadata(),
      { deadline: Date.now() + 5000 }, (err, value) => {
        if (err !== null) reject(new Error(`grpc-status ${err.code}: ${err.details}`));
        else if (!Buffer.isBuffer(value) || value.length !== 1024) reject(new Error('wrong answer'));
        else resolve();
      });
  }).finally(() => client.close());
}

async function measure(label: string, path: string, port: number, authority: string, pids: Record<string, number>, seconds: number, dir: string): Promise<SaturationRow> {
  await grpcCall(port, authority);
  const cpu = cpuSnapshot(pids);
  // 16 connections × 4 concurrent streams: 64 calls in flight, as the HTTP rows have 64 connections.
  const result = await runH2load({ port, method: GRPC_METHOD, authority, seconds, connections: 16, streams: 4, dir });
  const used = cpu.elapsed();
  return {
    path, label, rps: result.requestsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms, requests: result.requests, errors: result.errors,
    cpuUsPerRequest: Object.fromEntries(Object.entries(used).map(([name, s]) => [name, (s * 1e6) / result.requests])),
  };
}

export async function measureGrpc(
  causeway: CausewayPair, backend: { pid: number; port: number }, seconds: number, dir: string,
): Promise<Array<SaturationRow | SkippedRow>> {
  const rows: Array<SaturationRow | SkippedRow> = [];
  rows.push(await measure('gRPC direct to the backend', 'grpc-direct', backend.port, `127.0.0.1:${backend.port}`, { backend: backend.pid }, seconds, dir));
  const label = 'gRPC, Causeway A → B (h2c at the outbound listener)';
  const outboundPort = Number(causeway.outbound.split(':')[1]);
  if (!(await speaksH2c(outboundPort))) {
    rows.push({ path: 'grpc-causeway', label, skipped: 'not supported by this build: the outbound listener does not accept HTTP/2 cleartext (prior knowledge)' });
    return rows;
  }
  const pids = { A: causeway.a.child.pid!, B: causeway.b.child.pid!, backend: backend.pid };
  try {
    const row = await measure(label, 'grpc-causeway', outboundPort, `${MESH.grpc.host}:${MESH.grpc.port}`, pids, seconds, dir);
    rows.push(causeway.grpcPort.note === undefined ? row : { ...row, note: causeway.grpcPort.note });
  } catch (err) {
    rows.push({ path: 'grpc-causeway', label, skipped: `not supported by this build: ${(err as Error).message}${causeway.grpcPort.note === undefined ? '' : `; ${causeway.grpcPort.note}`}` });
  }
  return rows;
}
