#!/usr/bin/env bash
# The test command: type check, unit tests (run anywhere), then the end-to-end
# tests on real TAP devices in network namespaces (need root and /dev/net/tun).
# Usage: scripts/test.sh [unit|e2e|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"

npm run --silent addons >/dev/null  # the native addons, rebuilt from source (scripts/addons.mjs)
npx --no-install tsc -p tsconfig.json --noEmit

run_tests() { # $1: directory under test/
  mapfile -t files < <(find "test/$1" -name '*.test.ts' | sort)
  [ ${#files[@]} -gt 0 ] || { echo "no tests under test/$1" >&2; return 1; }
  node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
}

if [ "$what" = unit ] || [ "$what" = all ]; then run_tests unit; fi

if [ "$what" = e2e ] || [ "$what" = all ]; then
  if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
    msg="end-to-end tests need root and /dev/net/tun (run: sudo npm run test:e2e)"
    # In CI a skipped end-to-end suite would be a green light that tested nothing.
    if [ "${CI:-}" = true ]; then echo "FAIL: $msg" >&2; exit 1; fi
    echo "SKIP: $msg" >&2
    exit 0
  fi
  bash scripts/system-deps.sh
  npm run --silent build  # the daemons the e2e tests start run dist/ (bin/tapvpn.js), as an installed package does
  run_tests e2e
fi
