#!/usr/bin/env bash
# setup.sh installs the pinned third-party MCP client (the MCP Inspector's
# command line, package-lock.json) with npm, once, and prints the path of its
# entry point: NEOMEM_MCPCLIENT="$(bash tests/mcpclient/setup.sh)". mcp/'s
# tests run it against neomem over HTTP and stdio.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$dir"
command -v npm >/dev/null || { echo "setup.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
stamp=node_modules/.neomem-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup.sh: npm ci (tests/mcpclient)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  cp package-lock.json "$stamp"
fi
echo "$dir/node_modules/@modelcontextprotocol/inspector-cli/build/index.js"
