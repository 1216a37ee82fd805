// `node grpc-backend-process.js PORT`: the gRPC row's backend (see grpc-backend.ts).
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { BENCH_SERVICE } from './grpc-backend.js';

const RESPONSE = Buffer.alloc(1024, 'x');
const server = new Server();
server.addService(BENCH_SERVICE, { echo: (_call: unknown, callback: (err: null, value: Buffer) => void) => callback(null, RESPONSE) });
server.bindAsync(`127.0.0.1:${process.argv[2] ?? '0'}`, ServerCredentials.createInsecure(), (err) => {
  if (err !== null) {
    process.stderr.write(`grpc backend: ${err.message}\n`);
    process.exit(1);
  }
});
const stop = (): void => server.tryShutdown(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
