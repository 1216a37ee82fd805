#!/usr/bin/env bash
# The benchmark's load generator: wrk (Debian package), a C client that will not compete
# with the gateways for the CPU the way a Node.js client would.
set -euo pipefail
command -v wrk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -ne 0 ]; then echo "install-bench-tools: wrk missing; install it (apt-get install wrk)" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends wrk >/dev/null
