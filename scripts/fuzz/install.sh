#!/usr/bin/env bash
# Installs the pinned schemathesis (requirements.txt) into <repo>/.cache/schemathesis-venv.
# Idempotent: when the venv was built from these exact requirements it returns at once (~10 ms).
# Prints the path of the `st` executable on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/.cache/schemathesis-venv"
requirements="$here/requirements.txt"
pin="$(sed -n 's/^schemathesis==\([^[:space:]]*\).*/\1/p' "$requirements")"
if [[ -z "$pin" ]]; then
  echo "no schemathesis==<version> pin in $requirements" >&2
  exit 1
fi

# The venv records the requirements it was built from; a matching copy, an `st` and a Python
# that still starts (its base interpreter can be removed under it) mean there is nothing to do.
stamp="$venv/.installed-from"
if [[ -x "$venv/bin/st" && -f "$stamp" ]] && cmp -s "$stamp" "$requirements" &&
  "$venv/bin/python" -c '' 2>/dev/null; then
  echo "$venv/bin/st"
  exit 0
fi

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "schemathesis needs Python >= 3.11 ($python)" >&2
  exit 1
fi
# Debian ships `venv`'s pip bootstrap in a package of its own.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$python cannot create a venv: install Debian's package python3-venv (needs root)" >&2
    exit 1
  fi
  echo "installing Debian's python3-venv (apt-get)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >&2
fi

echo "installing schemathesis $pin into $venv" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --no-deps -r "$requirements" >&2
if ! problems="$("$venv/bin/python" -m pip check)"; then
  echo "$problems" >&2
  exit 1
fi
installed="$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("schemathesis"))')"
if [[ "$installed" != "$pin" ]]; then
  echo "expected schemathesis $pin, got $installed" >&2
  exit 1
fi
cp "$requirements" "$stamp"
echo "$venv/bin/st"
