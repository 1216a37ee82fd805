// The gRPC backend of the gRPC row: one unary method answering 1 KiB, run as its own process
// (grpc-backend-process.ts) so that its CPU is its own and not the benchmark's. Messages are
// raw bytes (identity serializers): no .proto to compile, and h2load can send a fixed body.
import type { ServiceDefinition } from '@grpc/grpc-js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, waitListening, type BenchProcess } from '../processes.js';

export const GRPC_METHOD = '/bench.Bench/Echo';
const raw = (b: Buffer): Buffer => b;

export const BENCH_SERVICE: ServiceDefinition = {
  echo: {
    path: GRPC_METHOD, requestStream: false, responseStream: false,
    requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw,
  },
};

export async function startGrpcBackend(dir: string): Promise<{ process: BenchProcess; port: number }> {
  const port = await freePort();
  const entry = fileURLToPath(new URL('./grpc-backend-process.js', import.meta.url));
  const process = startProcess('grpc-js backend', globalThis.process.execPath, [entry, String(port)], path.join(dir, 'grpc-backend.log'));
  await waitListening(port, process);
  return { process, port };
}
