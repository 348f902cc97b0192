#!/usr/bin/env bash
# setup.sh — creates (idempotently) a venv with the pinned reference packages
# from PyPI and prints the path of its python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${NEOMEM_CACHE:-$HOME/.cache/neomem}"
hash="$(sha256sum "$here/requirements.txt" | cut -c1-12)"
venv="$cache/reference-venv/$hash"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  command -v python3 >/dev/null 2>&1 || { echo "setup.sh: python3 is needed" >&2; exit 1; }
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
  touch "$venv/.complete"
fi
printf '%s\n' "$venv/bin/python"
