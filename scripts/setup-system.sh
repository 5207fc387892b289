#!/usr/bin/env bash
# Install the system packages Sandpit needs. Usage: setup-system.sh [run|test]
#   run:  what `make run` needs (Python venv support, Node.js, bubblewrap)
#   test: also what the test pass needs (PostgreSQL server, Chromium, the Docker engine;
#         iproute2 and openssl for the proxy tests' own network namespace and test CA;
#         nginx and caddy for the reverse-proxy tests of deploy/nginx and deploy/caddy)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

mode=${1:-run}
# bubblewrap, libseccomp2, gcc + libc6-dev (the static sandbox launcher), e2fsprogs +
# mount (workspace volumes), mmdebstrap (the runtime image).
packages=(python3 python3-venv python3-dev gcc libc6-dev make git ca-certificates
  bubblewrap libseccomp2 e2fsprogs mount mmdebstrap)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
if [ "$mode" = test ]; then
  packages+=(postgresql chromium docker.io iproute2 openssl nginx caddy)
fi
apt_ensure "${packages[@]}"

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || die "Node.js 18 or newer is needed (found $(node --version))"
