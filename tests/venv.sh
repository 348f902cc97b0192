#!/usr/bin/env bash
# venv.sh — the one way the project builds a pinned Python environment from
# PyPI. Sourced by the setup scripts (tests/mem0compat, tests/llmlocal,
# vector/local/reference), each of which prints its venv's python:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../venv.sh"
#   check() { "$VENV/bin/python" -c 'import mem0'; }    # is $VENV usable?
#   pinned_venv mem0compat "$here/requirements.txt" 11 [pip args…]
#
# The venv lives under ${NEOMEM_CACHE:-$HOME/.cache/neomem}/<name>-venv/<hash>,
# where <hash> covers the requirements and the interpreter (implementation,
# version, machine), so a changed pin or a new Python gets a fresh venv and an
# unchanged one is reused: a second run only runs check. It is built in place
# (a venv cannot be moved), with a .complete marker written last, so a
# half-built venv left by an interrupted run is rebuilt; concurrent runs on
# one cache are serialised with flock.
#
# Environment: NEOMEM_CACHE (cache root), PYTHON (interpreter to build from,
# default python3).

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

# pinned_venv NAME REQUIREMENTS MIN_MINOR [PIP_ARGS…] sets VENV, builds it
# when check fails, and prints "$VENV/bin/python".
pinned_venv() {
	local name="$1" req="$2" min="$3"
	shift 3
	local python="${PYTHON:-python3}"
	vlog() { printf '%s setup: %s\n' "$name" "$*" >&2; }
	if ! command -v "$python" >/dev/null 2>&1; then
		vlog "no $python on PATH (set PYTHON=...)"
		return 1
	fi
	if ! "$python" -c "import sys; sys.exit(0 if sys.version_info >= (3, $min) else 1)"; then
		vlog "$python is $("$python" -c 'import sys; print(sys.version.split()[0])'); need >= 3.$min"
		return 1
	fi
	local pyver hash root
	pyver="$("$python" -c 'import sys, platform; print(platform.python_implementation(), "%d.%d" % sys.version_info[:2], platform.machine())')"
	hash="$({ cat "$req"; printf '\n%s\n' "$pyver"; } | sha256sum | cut -c1-16)"
	root="${NEOMEM_CACHE:-$HOME/.cache/neomem}/$name-venv"
	VENV="$root/$hash"
	mkdir -p "$root"
	exec 9>"$root/.lock"
	if command -v flock >/dev/null 2>&1; then
		flock 9
	fi
	usable() { [ -f "$VENV/.complete" ] && [ -x "$VENV/bin/python" ] && check >/dev/null 2>&1; }
	if ! usable; then
		rm -rf "$VENV"
		vlog "creating venv $VENV ($pyver)"
		"$python" -m venv "$VENV" >&2
		"$VENV/bin/python" -m pip install --quiet --require-virtualenv "$@" -r "$req" >&2
		touch "$VENV/.complete"
		if ! usable; then
			vlog "venv $VENV was built but its check fails:"
			check >&2 || true
			return 1
		fi
	fi
	printf '%s\n' "$VENV/bin/python"
}
