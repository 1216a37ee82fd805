import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** PEM material for a Consul agent over TLS, and the files it was written to. */
export interface ConsulTlsFiles {
  dir: string;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** File names inside `dir`: ca.pem, server.pem, server-key.pem, client.pem, client-key.pem. */
  files: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
}

/**
 * A CA, a server certificate shaped like `consul tls cert create -server -dc dc1` makes them (SANs
 * server.dc1.consul, localhost, IP 127.0.0.1) and a client certificate (what `-client` makes,
 * client.dc1.consul), all P-256, made by openssl in `dir`.
 */
export function makeConsulTls(dir: string): ConsulTlsFiles {
  const at = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=Consul Agent CA', '-keyout', at('ca-key.pem'), '-out', at('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = (name: string, cn: string, san: string, eku: string): void => {
    openssl('req', '-new', ...ec, '-subj', `/CN=${cn}`, '-keyout', at(`${name}-key.pem`), '-out', at(`${name}.csr`));
    const ext = at(`${name}.ext`);
    writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=${eku}\nkeyUsage=critical,digitalSignature\n`);
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca-key.pem'), '-CAcreateserial',
      '-days', '1', '-extfile', ext, '-out', at(`${name}.pem`));
  };
  leaf('server', 'server.dc1.consul', 'DNS:server.dc1.consul,DNS:localhost,IP:127.0.0.1', 'serverAuth,clientAuth');
  leaf('client', 'client.dc1.consul', 'DNS:client.dc1.consul,DNS:localhost', 'clientAuth');
  const read = (name: string): string => readFileSync(at(name), 'utf8');
  return {
    dir, caPem: read('ca.pem'), serverCertPem: read('server.pem'), serverKeyPem: read('server-key.pem'),
    clientCertPem: read('client.pem'), clientKeyPem: read('client-key.pem'),
    files: { ca: 'ca.pem', serverCert: 'server.pem', serverKey: 'server-key.pem', clientCert: 'client.pem', clientKey: 'client-key.pem' },
  };
}
