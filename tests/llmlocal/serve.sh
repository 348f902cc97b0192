#!/usr/bin/env bash
# Serve SmolLM2-135M-Instruct (llama.cpp, through xllamacpp) over the OpenAI
# API on 127.0.0.1, creating its venv first if needed (setup.sh). It prints
#
#   llmlocal: listening on http://127.0.0.1:PORT/v1 model=smollm2-135m-instruct
#
# and serves until interrupted. Arguments go to serve.py: --port N (default: a
# free port), --threads N, --ctx N, --parallel N, --max-tokens N, --alias NAME.
# Point neomem at it with
#
#   NEOMEM_LLM_PROVIDER=openai-compatible NEOMEM_LLM_BASE_URL=http://127.0.0.1:PORT/v1 \
#   NEOMEM_LLM_MODEL=smollm2-135m-instruct NEOMEM_LLM_STRUCTURED=json_schema
#
# Environment: NEOMEM_LLMLOCAL_PYTHON, the venv's python (default: what
# setup.sh prints); NEOMEM_CACHE, PYTHON (see setup.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${NEOMEM_LLMLOCAL_PYTHON:-}"
if [ -z "$py" ]; then
	py="$(bash "$here/setup.sh")"
fi
# llama.cpp's OpenMP threads must sleep when idle, not spin: spinning threads
# cut generation on 2 cores from ~55 to 0.4-5 tokens/s.
export OMP_WAIT_POLICY=PASSIVE
exec "$py" "$here/serve.py" "$@"
