#!/usr/bin/env bash
# Debian packages the test suite runs as real peers: openssl (certificate checks), curl (a real
# HTTP proxy client) and chromium (the browser the dashboard test drives, through playwright-core,
# at /usr/bin/chromium). Installed only when missing, so a developer machine is left alone.
set -euo pipefail
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-tools: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
