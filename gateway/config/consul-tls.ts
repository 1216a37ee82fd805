import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { CausewayError, ErrorCodes, describeError, isPlainObject, type ConsulTlsOptions } from '../../registry/index.js';
import { section } from './validate-limits.js';

/**
 * `sources.consul[].tls` as an object: HTTPS to the agent (Consul's `ports.https`), trusting
 * `caFile` (the system's CAs without it), presenting `certFile`/`keyFile` to an agent with
 * `tls.https.verify_incoming`, and checking `serverName` in its certificate (the agent's address
 * is an IP; Consul's own server certificates name `server.<dc>.consul`). Paths are absolute here
 * (relative ones were resolved against the config's directory).
 */
export interface ConsulTlsConfig {
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
  serverName: string | undefined;
}

const TLS_FIELDS = ['caFile', 'certFile', 'keyFile', 'serverName'] as const;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `tls: true | false | { caFile, certFile, keyFile, serverName }`; undefined for plain HTTP. */
export function validateConsulTls(value: unknown, at: string, configDir: string, errors: string[]): ConsulTlsConfig | undefined {
  const none: ConsulTlsConfig = { caFile: undefined, certFile: undefined, keyFile: undefined, serverName: undefined };
  if (value === undefined || value === false) return undefined;
  if (value === true) return none;
  if (!isPlainObject(value)) {
    errors.push(`${at}: must be true, false or a mapping of ${TLS_FIELDS.join(', ')}`);
    return undefined;
  }
  const raw = section(value, at, TLS_FIELDS, errors);
  const text = (field: (typeof TLS_FIELDS)[number]): string | undefined => {
    const v = raw[field];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && v !== '') return v;
    errors.push(`${at}.${field}: must be a non-empty string`);
    return undefined;
  };
  const file = (field: 'caFile' | 'certFile' | 'keyFile'): string | undefined => {
    const v = text(field);
    return v === undefined ? undefined : path.resolve(configDir, v);
  };
  const tls: ConsulTlsConfig = { caFile: file('caFile'), certFile: file('certFile'), keyFile: file('keyFile'), serverName: text('serverName') };
  if ((raw.certFile === undefined) !== (raw.keyFile === undefined)) {
    const [missing, given] = raw.certFile === undefined ? ['certFile', 'keyFile'] : ['keyFile', 'certFile'];
    errors.push(`${at}.${missing}: is required with ${given} (a client certificate and its key go together)`);
  }
  if (tls.serverName !== undefined && (isIP(tls.serverName) !== 0 || !DNS_NAME.test(tls.serverName))) {
    errors.push(`${at}.serverName: "${tls.serverName.slice(0, 100)}" must be a DNS name, the one in the agent's certificate (server.dc1.consul); an IP address is checked without it`);
  }
  return tls;
}

/**
 * Reads the TLS files of one Consul source at start, so that a wrong file stops the start with
 * the field named rather than failing every request later: a file that cannot be read, is not a
 * PEM certificate or key, or holds a key that is not the certificate's is CW_CONFIG_READ (as an
 * unreadable tokenFile is; CW_CONFIG_INVALID means the config text itself failed validation).
 */
export async function readConsulTls(source: string, tls: ConsulTlsConfig): Promise<ConsulTlsOptions> {
  const where = `sources.consul ${source}: tls`;
  const read = async (field: string, file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new CausewayError(ErrorCodes.CONFIG_READ, `${where}.${field}: cannot read ${file}: ${describeError(err)}`, { cause: err });
    }
  };
  const invalid = (field: string, file: string, why: string): CausewayError => new CausewayError(ErrorCodes.CONFIG_READ, `${where}.${field}: ${file} ${why}`);
  const certificates = (field: string, file: string, pem: string): X509Certificate[] => {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw invalid(field, file, 'holds no PEM certificate');
    return blocks.map((block) => {
      try {
        return new X509Certificate(block);
      } catch (err) {
        throw invalid(field, file, `holds a certificate that does not parse: ${describeError(err)}`);
      }
    });
  };
  const options: ConsulTlsOptions = {};
  if (tls.caFile !== undefined) {
    const pem = await read('caFile', tls.caFile);
    certificates('caFile', tls.caFile, pem);
    options.ca = pem;
  }
  if (tls.certFile !== undefined && tls.keyFile !== undefined) {
    const [certPem, keyPem] = [await read('certFile', tls.certFile), await read('keyFile', tls.keyFile)];
    const [leaf] = certificates('certFile', tls.certFile, certPem);
    let key: KeyObject;
    try {
      key = createPrivateKey(keyPem);
    } catch (err) {
      throw invalid('keyFile', tls.keyFile, `holds no private key: ${describeError(err)}`);
    }
    if (leaf === undefined || !leaf.checkPrivateKey(key)) throw invalid('keyFile', tls.keyFile, `is not the key of tls.certFile ${tls.certFile}`);
    options.cert = certPem;
    options.key = keyPem;
  }
  if (tls.serverName !== undefined) options.serverName = tls.serverName;
  return options;
}
