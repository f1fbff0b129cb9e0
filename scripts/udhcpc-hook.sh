#!/bin/sh
# tapvpn's udhcpc script (udhcpc -s): RFC 3442 for busybox udhcpc.
# The stock scripts ignore $staticroutes (option 121) and $msstaticroutes
# (249) and install a default route through $router. RFC 3442 §2: a client
# that receives classless routes ignores the router option. So: with
# classless routes, drop $router, let the distribution's script do the rest
# (address, MTU, DNS through resolvconf or resolv.conf, release), then
# install the routes. Without a distribution script, address, MTU and routes
# are set here and DNS is left to tapvpn's own resolv.conf guard.
set -u
routes="${staticroutes:-${msstaticroutes:-}}"
[ -n "$routes" ] && unset router

stock=""
for candidate in /etc/udhcpc/default.script /usr/share/udhcpc/default.script; do
  if [ -x "$candidate" ]; then stock="$candidate"; break; fi
done

if [ -n "$stock" ]; then
  "$stock" "$@" || exit $?
elif [ "$1" = bound ] || [ "$1" = renew ]; then
  ip -4 addr flush dev "$interface"
  ip -4 addr add "$ip/${mask:-32}" dev "$interface"
  [ -n "${mtu:-}" ] && ip link set dev "$interface" mtu "$mtu"
elif [ "$1" = deconfig ]; then
  ip -4 addr flush dev "$interface"
fi

case "$1" in
  bound|renew)
    # "$routes" is "dest/prefix gateway dest/prefix gateway ..."
    set -- $routes
    while [ $# -ge 2 ]; do
      ip -4 route replace "$1" via "$2" dev "$interface"
      shift 2
    done
    ;;
esac
exit 0
