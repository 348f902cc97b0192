#!/usr/bin/env bash
# chromium.sh — make sure a headless-capable Chromium is installed and print
# its path. The Browser test (browser/browser_test.go) drives it.
#
#   bash browser/chromium.sh     find Chromium; install Debian's `chromium`
#                                package only when none is found
#
# Where it looks, in order: $NEOMEM_CHROMIUM, then chromium, chromium-browser,
# google-chrome, google-chrome-stable on PATH. Installing needs apt-get and
# root (or sudo); the package comes from the distribution's own archive.
# Running it again once Chromium is there changes nothing.
set -euo pipefail

log() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

find_chromium() {
  if [ -n "${NEOMEM_CHROMIUM:-}" ]; then
    [ -x "$NEOMEM_CHROMIUM" ] || die "NEOMEM_CHROMIUM=$NEOMEM_CHROMIUM is not an executable"
    printf '%s\n' "$NEOMEM_CHROMIUM"
    return 0
  fi
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if bin="$(find_chromium)"; then
  printf '%s\n' "$bin"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "no Chromium found and no apt-get to install it; set NEOMEM_CHROMIUM to a Chromium or Chrome binary"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "installing Chromium needs root (or sudo)"
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Chromium only recommends fonts; without one, captions render as boxes.
packages=(chromium fonts-liberation)
log "installing Debian's ${packages[*]}"
# The package lists may be missing or stale on a fresh machine.
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${packages[@]}" >&2; then
  "${sudo[@]}" apt-get update >&2
  "${sudo[@]}" apt-get install -y --no-install-recommends "${packages[@]}" >&2
fi
bin="$(find_chromium)" || die "apt-get installed chromium but no chromium binary is on PATH"
log "installed $("$bin" --version 2>/dev/null || echo chromium)"
printf '%s\n' "$bin"
