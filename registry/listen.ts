import type { AddressInfo, Server } from 'node:net';

/** Binds a server (net, tls, http, https) and resolves to its address; a bind error rejects. */
export function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
