import path from 'node:path';

/** Every listener on 127.0.0.1 port 0: in-process gateways in tests bind wherever is free. */
export const EPHEMERAL_LISTEN = '{ eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }';

/** A minimal gateway config for `cluster` (trust domain `<cluster>.example.org`, data dir under `dir`), plus `extra` YAML. */
export function inProcessConfig(dir: string, cluster: string, extra = ''): string {
  return `
cluster: ${cluster}
trustDomain: ${cluster}.example.org
gatewayName: gw
dataDir: ${path.join(dir, cluster)}
listen: ${EPHEMERAL_LISTEN}
${extra}
`;
}
