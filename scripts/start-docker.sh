#!/usr/bin/env bash
# Start the Docker engine (dockerd) when none answers, and wait until it does.
# The test pass runs the Docker backend's suites against it; on a host with
# systemd the engine is usually running already and this does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=$(command -v docker) || die "the docker client is not installed (package docker.io)"
"$docker_cli" info >/dev/null 2>&1 && exit 0
command -v dockerd >/dev/null || die "dockerd is not installed (package docker.io)"
log=${DOCKERD_LOG:-/var/log/sandpit-dockerd.log}
step "Starting the Docker engine (log: $log)"
# setsid: the engine outlives this script and the make that ran it.
as_root setsid dockerd >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  "$docker_cli" info >/dev/null 2>&1 && exit 0
  sleep 0.5
done
tail -n 20 "$log" >&2
die "the Docker engine did not start within 60 s"
