#!/usr/bin/env bash
# Create (once) a virtualenv holding Mem0's own Python client, pinned by
# requirements.txt beside this script, and print the path of its python on
# stdout. Everything else goes to stderr, so callers can do:
#
#   PY="$(bash tests/mem0compat/setup.sh)"
#   "$PY" tests/mem0compat/compat.py --host http://127.0.0.1:PORT --api-key KEY
#
# The venv lives under ${NEOMEM_CACHE:-$HOME/.cache/neomem}/mem0compat-venv/<hash>,
# where <hash> covers requirements.txt and the interpreter's version, so a
# changed pin or a new Python gets a fresh venv and an unchanged one is reused.
# Running this twice is cheap: the second run only checks the venv imports mem0.
#
# Environment:
#   NEOMEM_CACHE   cache root (default $HOME/.cache/neomem)
#   PYTHON         interpreter to build the venv from (default python3; needs >= 3.11,
#                  the pinned numpy requires it)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
python="${PYTHON:-python3}"

# Mem0's client phones home to PostHog unless this is off; it is read when
# mem0 is first imported. MEM0_DIR keeps its ~/.mem0/config.json out of $HOME.
export MEM0_TELEMETRY=False
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

log() { printf 'mem0compat setup: %s\n' "$*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
	log "no $python on PATH (set PYTHON=...)"
	exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
	log "$python is $("$python" -c 'import sys; print(sys.version.split()[0])'); need >= 3.11"
	exit 1
fi

pyver="$("$python" -c 'import sys, platform; print(platform.python_implementation(), "%d.%d" % sys.version_info[:2])')"
hash="$({ cat "$req"; printf '\n%s\n' "$pyver"; } | sha256sum | cut -c1-16)"
root="${NEOMEM_CACHE:-$HOME/.cache/neomem}/mem0compat-venv"
venv="$root/$hash"
mkdir -p "$root"

# A venv is good when it was finished (marker written last) and its python
# can import the client with telemetry off.
check() {
	[ -f "$venv/.complete" ] && [ -x "$venv/bin/python" ] || return 1
	local d
	d="$(mktemp -d)"
	MEM0_DIR="$d" "$venv/bin/python" -c 'from mem0 import MemoryClient' >/dev/null 2>&1
	local rc=$?
	rm -rf "$d"
	return $rc
}

build() {
	# Built in place (a venv cannot be moved: its scripts hold absolute
	# paths); the .complete marker is written last, so a half-built venv left
	# by an interrupted run fails check() and is rebuilt from scratch.
	rm -rf "$venv"
	log "creating venv $venv ($pyver)"
	"$python" -m venv "$venv" >&2
	"$venv/bin/python" -m pip install --quiet --require-virtualenv -r "$req" >&2
	touch "$venv/.complete"
}

# Serialise concurrent runs (e.g. parallel CI jobs) on the same cache.
exec 9>"$root/.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi

if ! check; then
	build
	if ! check; then
		log "venv $venv was built but cannot import mem0"
		exit 1
	fi
fi

printf '%s\n' "$venv/bin/python"
