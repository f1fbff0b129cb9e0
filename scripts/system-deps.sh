#!/usr/bin/env bash
# Installs the Debian packages that the end-to-end tests, the demo and the
# benchmark drive as real peers (ip, the DHCP clients dhclient, dhcpcd and
# udhcpc, ping, iperf3, curl; openvpn, wireguard-go and wg for the benchmark),
# and the headless browser the status page test drives (chromium).
# Does nothing when they are already there; needs root to install.
set -euo pipefail

want=(ip:iproute2 dhclient:isc-dhcp-client dhcpcd:dhcpcd-base udhcpc:udhcpc setpriv:util-linux ping:iputils-ping iperf3:iperf3 curl:curl nft:nftables chromium:chromium)
if [ "${1:-}" = "--bench" ]; then want+=(openvpn:openvpn wireguard-go:wireguard-go wg:wireguard-tools); fi

missing=()
for pair in "${want[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "tapvpn: missing system packages: ${missing[*]}." >&2
  echo "        Install them as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "tapvpn: installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
