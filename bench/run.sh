#!/usr/bin/env bash
# `npm run bench`: installs what the benchmark drives (iperf3, openvpn,
# wireguard-go, wg, ping, iproute2; through scripts/system-deps.sh --bench),
# then runs tapvpn against OpenVPN TAP/TCP and wireguard-go (bench/vpn-bench.ts)
# as root. Arguments pass through:
#   npm run bench -- --runs 5 --seconds 10 --only veth,tapvpn
#   npm run bench -- --baseline-ref 4540c51       (adds tapvpn at that ref: before/after)
#   npm run bench -- --only "tapvpn aes-256-gcm,OpenVPN AES,wireguard" --tests up1,down1 \
#                    --levers "txq 256=txqueuelen=256;no lowat=notsent_lowat=0"
# tapvpn runs compiled, as deployed: the script builds dist/ first (npm run
# build) and bin/tapvpn.js runs it; the adapter-only figures come from
# bench/adapter-bench.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  case "$arg" in
    -h | --help) exec node --import tsx bench/vpn-bench.ts --help ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "bench: needs root (network namespaces, TAP devices): sudo npm run bench" >&2
  exit 2
fi
bash scripts/system-deps.sh --bench
command -v openssl >/dev/null || { echo "bench: installing openssl" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; }
[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build >/dev/null
exec node --import tsx bench/vpn-bench.ts "$@"
