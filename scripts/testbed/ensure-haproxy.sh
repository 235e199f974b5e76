#!/usr/bin/env bash
# Makes sure HAProxy is on this machine: the local scale-out run (`npm run stack:local`) puts it in
# front of the API instances, and `npm test` validates deploy/haproxy/haproxy.cfg with it. Installs
# Debian's package `haproxy` when it is missing (needs root), as up.sh does for redis-server.
# Run by `npm test` before any test (scripts/run-tests.ts), and by scripts/stack/haproxy.ts when
# `haproxy` is not on PATH (`npm run stack:local`, the fault battery). Prints nothing on stdout; progress goes to stderr. HAProxy is only run by those callers,
# in the foreground on loopback: the package's own system service, if one was started, is stopped.
set -euo pipefail

log() { printf '[haproxy] %s\n' "$*" >&2; }

if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "the deploy tests and the scale-out run need HAProxy: install Debian's package haproxy (sudo apt-get install --no-install-recommends haproxy)" >&2
  exit 1
fi
log "installing Debian's haproxy (apt-get)"
# another apt-get (up.sh's redis-server, a colleague's run) may hold the lock for a while
apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends haproxy >&2
# the package's system service (port 80 style config) is not ours; without systemd none runs
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet haproxy 2>/dev/null; then
  systemctl stop haproxy >&2 || true
fi
command -v haproxy >/dev/null 2>&1 || {
  log "apt-get installed haproxy, but it is not on PATH"
  exit 1
}
log "$(haproxy -v | head -n 1)"
