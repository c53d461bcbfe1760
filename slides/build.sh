#!/usr/bin/env bash
# Build one reveal.js deck per chapter into slides/build/, for use with no internet.
# Needs the local reveal.js and require.js: run `npm ci` in this folder first (./lab provision does).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -d "$HERE/node_modules/reveal.js" ] || (cd "$HERE" && npm ci --no-audit --no-fund)
exec "$HERE/../.venv/bin/labcore" course slides "$@"
