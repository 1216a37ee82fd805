#!/usr/bin/env bash
# Debian packages the test suite runs as real peers: openssl (certificate checks), curl (a real
# HTTP proxy client), chromium (the browser the dashboard test drives, through playwright-core,
# at /usr/bin/chromium), prometheus (the server that scrapes /metrics in the telemetry test,
# and promtool, which lints the exposition and tests the documented alert rules) and
# python3-grpcio (gRPC's C-core with its xDS resolver: the second, independent xDS client of the
# xDS tests; into Debian's /usr/bin/python3, which is what it is checked with), shellcheck (the
# VM installers of terraform/modules/gateway-vm/files) and systemd (systemd-analyze verify of
# their units; the package installs in a container without becoming its init). Installed only
# when missing, so a developer machine is left alone.
set -euo pipefail
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/bin/chromium ] || need+=(chromium)
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || need+=(prometheus)
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || need+=(python3-grpcio)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-tools: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The prometheus package would start its own daemon (port 9090) where an init system runs:
  # policy-rc.d (invoke-rc.d's documented hook) forbids starting services during this install.
  policy=/usr/sbin/policy-rc.d
  placed=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    placed=yes
  fi
  trap '[ "$placed" = yes ] && rm -f "$policy"' EXIT
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
