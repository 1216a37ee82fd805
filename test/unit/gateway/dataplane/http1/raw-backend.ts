// Test fixture: a raw TCP backend that misbehaves on purpose, by request path, and counts what
// it saw. Written on net, not node:http, so that nothing between the gateway's bytes and the
// test reinterprets them.
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface RawBackend {
  port: number;
  /** TCP connections accepted so far. */
  accepted: number;
  /** Open now. */
  readonly open: Set<Socket>;
  /** Request heads seen (request lines), in order, over all connections. */
  readonly requestLines: string[];
  /** Every byte received, for looking for smuggled requests. */
  received(): string;
  close(): Promise<void>;
}

/**
 * Paths:
 * - `/hold`: accepts the request and never answers.
 * - `/half`: a 200 head promising 100,000 bytes, 1,000 of them, then the connection is destroyed.
 * - `/stream`: a 200 head promising 100 MB, then 64 KiB every 5 ms until the connection closes.
 * - `/status/<n>`: a small answer with that status, keep-alive.
 * - `/respond/<case>`: a malformed answer (CANNED).
 * - anything else: a small 200 naming the request line, keep-alive.
 * Request bodies are read by Content-Length only (chunked bodies are not parsed: the smuggling
 * tests only need heads counted, and bytes kept).
 */
/** Malformed answers (response smuggling): a gateway must not pass them on as they are. */
const CANNED: Readonly<Record<string, string>> = {
  '/respond/cl-te': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  '/respond/dup-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 30\r\n\r\nhello',
  '/respond/bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 5\n\nhello',
  '/respond/bad-chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
};

export async function startRawBackend(host = '127.0.0.1'): Promise<RawBackend> {
  const open = new Set<Socket>();
  const requestLines: string[] = [];
  const chunks: Buffer[] = [];
  const backend = {
    port: 0, accepted: 0, open, requestLines,
    received: () => Buffer.concat(chunks).toString('latin1'),
    close: async () => undefined,
  } as RawBackend;
  const server = createServer((socket) => {
    backend.accepted += 1;
    open.add(socket);
    let timer: NodeJS.Timeout | undefined;
    socket.on('close', () => {
      open.delete(socket);
      if (timer !== undefined) clearInterval(timer);
    });
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let bodyLeft = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (bodyLeft > 0) {
          const used = Math.min(bodyLeft, buffer.length);
          bodyLeft -= used;
          buffer = buffer.subarray(used);
          if (bodyLeft > 0) return;
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.toString('latin1', 0, end);
        buffer = buffer.subarray(end + 4);
        const line = head.split('\r\n')[0] ?? '';
        requestLines.push(line);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        bodyLeft = length === null ? 0 : Number(length[1]);
        const path = line.split(' ')[1] ?? '';
        if (path === '/hold') continue;
        if (path === '/half') {
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'h'.repeat(1000)}`, () => socket.destroy());
          return;
        }
        if (path === '/stream') {
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n');
          const block = Buffer.alloc(65_536, 's');
          timer = setInterval(() => {
            if (!socket.destroyed) socket.write(block);
          }, 5);
          return;
        }
        const canned = CANNED[path];
        if (canned !== undefined) {
          socket.write(canned);
          continue;
        }
        const status = path.startsWith('/status/') ? Number(path.slice(8)) : 200;
        const body = `seen ${line}`;
        socket.write(`HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\nx-backend: raw\r\n\r\n${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of open) socket.destroy();
  });
  return backend;
}
