#!/usr/bin/env bash
# Makes sure the browser the console's end-to-end tests drive is there, before any test runs
# (`npm test` calls it first): Debian's Chromium at /usr/bin/chromium, installed with apt-get when
# missing and we are root, as up.sh does for redis-server. CHROMIUM_PATH points the tests at
# another Chromium instead (never installed by this script). When it cannot provide the browser it
# prints one line saying what to install and exits 1. Quiet when the browser is there.
set -euo pipefail

DEBIAN_CHROMIUM=/usr/bin/chromium
browser=${CHROMIUM_PATH:-$DEBIAN_CHROMIUM}

[[ -x $browser ]] && exit 0

if [[ -n ${CHROMIUM_PATH:-} ]]; then
  echo "npm test: CHROMIUM_PATH=$browser is not an executable: point it at a Chromium, or unset it to use Debian's chromium at $DEBIAN_CHROMIUM" >&2
  exit 1
fi
if [[ $(id -u) != 0 ]]; then
  echo "npm test: the console tests need Chromium at $DEBIAN_CHROMIUM: install Debian's package chromium (sudo apt-get install --no-install-recommends chromium), or set CHROMIUM_PATH to a Chromium" >&2
  exit 1
fi

log_file="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.services/apt-chromium.log"
mkdir -p "$(dirname "$log_file")"
echo "[testbed] chromium: installing Debian's chromium with apt-get (once per machine; log: $log_file)" >&2
{
  # another apt-get (a colleague's run, up.sh's redis-server) may hold the lock for a while
  apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium
} >"$log_file" 2>&1 || {
  tail -n 20 "$log_file" >&2
  echo "npm test: installing Debian's chromium with apt-get failed (above: the end of $log_file); install it, or set CHROMIUM_PATH to a Chromium" >&2
  exit 1
}
[[ -x $browser ]] || {
  echo "npm test: Debian's chromium installed but $browser is still missing; set CHROMIUM_PATH to the browser" >&2
  exit 1
}
