#!/usr/bin/env bash
# The benchmark's peers and load generators, all C programs from Debian, so that neither the
# load nor the proxies Causeway is compared with compete for the CPU the way Node.js would:
#   nginx-light    the backend and the nginx pair          haproxy  the HAProxy pair
#   wrk            closed-loop HTTP/1.1 load                nghttp2-client  h2load (gRPC load)
#   openssl        the two CAs and leaf certificates        socat    CONNECT shim for wrk (TCP port)
#   curl           the 1 GB transfers
# Installed only when missing, so a developer machine is left alone.
set -euo pipefail
declare -A tool_of=([nginx]=nginx-light [haproxy]=haproxy [wrk]=wrk [h2load]=nghttp2-client [openssl]=openssl [socat]=socat [curl]=curl)
need=()
for tool in "${!tool_of[@]}"; do
  # nginx and haproxy install into /usr/sbin, which a non-login shell may not have on PATH.
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need+=("${tool_of[$tool]}")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-tools: missing ${need[*]}; run as root or install them (apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian packages start their own nginx/haproxy services on :80; the benchmark starts its
# own instances on loopback ports, so stop the packaged ones where a service manager runs them.
for service in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then systemctl stop "$service" || true; fi
  if [ -x "/etc/init.d/$service" ]; then "/etc/init.d/$service" stop >/dev/null 2>&1 || true; fi
done
