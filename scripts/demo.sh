#!/usr/bin/env bash
# The demo: installs the system packages it drives, builds, and runs `tapvpn demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
npm run --silent build
exec node bin/tapvpn.js demo
