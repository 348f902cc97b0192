#!/usr/bin/env bash
# Create (once) a virtualenv holding Mem0's open-source Memory (mem0ai, local
# Qdrant store, OpenAI-compatible embedder), pinned by requirements.txt beside
# this script, and print the path of its python on stdout. Everything else goes
# to stderr, so callers can do:
#
#   PY="$(bash tests/eval/mem0/setup.sh)"
#   "$PY" tests/eval/mem0/sidecar.py --embed-url http://127.0.0.1:PORT/v1 \
#       --embed-model all-minilm-l6-v2 --dims 384 --dir "$(mktemp -d)"
#
# cmd/evalmem starts sidecar.py itself; its Mem0 test runs when
# NEOMEM_EVAL_MEM0_PYTHON holds this script's output:
#
#   NEOMEM_EVAL_MEM0_PYTHON="$(bash tests/eval/mem0/setup.sh)" go test ./cmd/evalmem/ -run Mem0
#
# The venv is built by tests/venv.sh (cached, keyed by the pins and the
# interpreter); a second run only checks that it imports mem0's Memory.
#
# Environment:
#   NEOMEM_CACHE   cache root (default $HOME/.cache/neomem)
#   PYTHON         interpreter to build the venv from (default python3; needs >= 3.11,
#                  the pinned numpy requires it)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../venv.sh"

# Mem0 phones home to PostHog unless this is off; it is read when mem0 is
# first imported. MEM0_DIR keeps its ~/.mem0 out of $HOME during the check
# (sidecar.py points it into its own --dir).
export MEM0_TELEMETRY=False

check() {
	local d rc
	d="$(mktemp -d)"
	MEM0_DIR="$d" "$VENV/bin/python" -c 'from mem0 import Memory'
	rc=$?
	rm -rf "$d"
	return $rc
}

# The pinned numpy needs Python 3.11.
pinned_venv eval-mem0 "$here/requirements.txt" 11
