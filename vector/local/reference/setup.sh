#!/usr/bin/env bash
# setup.sh — creates (idempotently) a venv with the pinned reference packages
# from PyPI (tests/venv.sh) and prints the path of its python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../../tests/venv.sh"
check() { "$VENV/bin/python" -c 'import sys'; }
pinned_venv reference "$here/requirements.txt" 9
