// nginx as the benchmark's backend and as the nginx pair (plain HTTP in at A, mTLS with
// per-side CAs A → B, plain HTTP to the backend). Each instance gets its own prefix, pid file
// and temp paths in the run's temp dir, so it touches nothing of a system nginx.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PairCerts } from '../certs.js';
import { freePort, startProcess, waitListening, type BenchProcess } from '../processes.js';

const NGINX = '/usr/sbin/nginx';

export interface NginxInstance {
  process: BenchProcess;
  port: number;
}

/**
 * One master and one worker (one worker, as one gateway is one process), in the foreground.
 * keepalive_requests is raised from nginx's default 1000 so that no path pays for reconnects
 * the others do not (HAProxy and Causeway have no such limit).
 */
async function startNginx(name: string, dir: string, port: number, httpBody: string): Promise<NginxInstance> {
  const prefix = path.join(dir, name);
  await mkdir(path.join(prefix, 'temp'), { recursive: true });
  const config = path.join(prefix, 'nginx.conf');
  await writeFile(config, `
daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path ${prefix}/temp/body;
  proxy_temp_path ${prefix}/temp/proxy;
  fastcgi_temp_path ${prefix}/temp/fastcgi;
  uwsgi_temp_path ${prefix}/temp/uwsgi;
  scgi_temp_path ${prefix}/temp/scgi;
  ${httpBody}
}
`);
  const process = startProcess(`nginx ${name}`, NGINX, ['-p', prefix, '-c', config, '-e', `${prefix}/error.log`], path.join(prefix, 'stderr.log'));
  await waitListening(port, process);
  return { process, port };
}

/** Serves `/1k` (1024 bytes) and `/1g` from `wwwDir`, with sendfile, as any static backend would. */
export async function startBackend(dir: string, wwwDir: string): Promise<NginxInstance> {
  const port = await freePort();
  return startNginx('backend', dir, port, `
  sendfile on;
  tcp_nopush on;
  open_file_cache max=16;
  server { listen 127.0.0.1:${port} reuseport backlog=4096; root ${wwwDir}; location / { } }`);
}

// Keep-alive to the next hop as a tuned nginx deployment has it: HTTP/1.1, no Connection
// header passed on, an idle pool per worker. proxy_max_temp_file_size 0 keeps a 1 GB response
// in memory buffers instead of spooling it to disk, which no other path does.
const PROXY_COMMON = `
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_max_temp_file_size 0;`;

export async function startNginxPair(dir: string, certs: PairCerts, backendPort: number): Promise<{ a: NginxInstance; b: NginxInstance }> {
  const portA = await freePort();
  const portB = await freePort();
  const b = await startNginx('nginx-b', dir, portB, `
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${portB} ssl backlog=4096;
    ssl_certificate ${certs.serverB.cert};
    ssl_certificate_key ${certs.serverB.key};
    ssl_client_certificate ${certs.caA};
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    location / { proxy_pass http://backend;${PROXY_COMMON} }
  }`);
  const a = await startNginx('nginx-a', dir, portA, `
  upstream b { server 127.0.0.1:${portB}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${portA} backlog=4096;
    location / {
      proxy_pass https://b;${PROXY_COMMON}
      proxy_ssl_certificate ${certs.clientA.cert};
      proxy_ssl_certificate_key ${certs.clientA.key};
      proxy_ssl_trusted_certificate ${certs.caB};
      proxy_ssl_verify on;
      proxy_ssl_name ${certs.serverNameB};
      proxy_ssl_server_name on;
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_session_reuse on;
    }
  }`);
  return { a, b };
}
