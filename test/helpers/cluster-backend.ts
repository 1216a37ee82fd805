// A backend as its own process, so that a test can kill it the way a backend dies: SIGKILL
// closes its sockets in the kernel (RST on connections with unread data, ECONNREFUSED for
// every connect after), which no in-process server.close() reproduces.
//
//   node dist/test/helpers/cluster-backend.js <cluster> <port>
//
// Answers every request 200 with `x-cluster: <cluster>` and a JSON body naming the cluster,
// so a caller sees which cluster served it whatever the gateways say. Prints
// `listening <port>` once bound; exits when its parent's IPC channel closes (the parent died),
// so a crashed test leaves no backend holding its port.
import { createServer } from 'node:http';

const [cluster, portText] = process.argv.slice(2);
const port = Number(portText);
if (cluster === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write('usage: cluster-backend.js <cluster> <port>\n');
  process.exit(2);
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({ cluster, method: req.method, path: req.url });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-cluster': cluster });
    res.end(body);
  });
});
// Above the gateway pool's 4 s idle timeout (docs/configuration.md), as a Node server's default is.
server.keepAliveTimeout = 5000;
server.on('error', (err) => {
  process.stderr.write(`cluster-backend ${cluster}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : port}\n`);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
