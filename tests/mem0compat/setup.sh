#!/usr/bin/env bash
# Create (once) a virtualenv holding Mem0's own Python client, pinned by
# requirements.txt beside this script, and print the path of its python on
# stdout. Everything else goes to stderr, so callers can do:
#
#   PY="$(bash tests/mem0compat/setup.sh)"
#   "$PY" tests/mem0compat/compat.py --host http://127.0.0.1:PORT --api-key KEY
#
# The venv is built by tests/venv.sh (cached, keyed by the pins and the
# interpreter); a second run only checks that it imports mem0.
#
# Environment:
#   NEOMEM_CACHE   cache root (default $HOME/.cache/neomem)
#   PYTHON         interpreter to build the venv from (default python3; needs >= 3.11,
#                  the pinned numpy requires it)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../venv.sh"

# Mem0's client phones home to PostHog unless this is off; it is read when
# mem0 is first imported. MEM0_DIR keeps its ~/.mem0/config.json out of $HOME.
export MEM0_TELEMETRY=False

check() {
	local d rc
	d="$(mktemp -d)"
	MEM0_DIR="$d" "$VENV/bin/python" -c 'from mem0 import MemoryClient'
	rc=$?
	rm -rf "$d"
	return $rc
}

# The pinned numpy needs Python 3.11.
pinned_venv mem0compat "$here/requirements.txt" 11
