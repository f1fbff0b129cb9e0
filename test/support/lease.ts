/** The lease the engine and emulator unit tests serve: a /24 tunnel with one pushed route to a LAN. */
import { DEFAULT_GATEWAY_MAC, type Lease } from '../../src/lease.js';

export const TEST_LEASE: Readonly<Lease> = {
  address: '10.77.0.2',
  prefixLength: 24,
  gateway: '10.77.0.1',
  routes: [{ destination: '172.31.99.0', prefixLength: 24, gateway: '10.77.0.1' }],
  dnsServers: [],
  mtu: 1400,
  leaseTimeSec: 3600,
  gatewayMac: DEFAULT_GATEWAY_MAC,
};

/** TEST_LEASE with IPv6: the client's /64 inside a /48 tunnel network, one pushed route, DNS and a search domain. */
export const TEST_LEASE6: Readonly<Lease> = {
  ...TEST_LEASE,
  searchDomain: 'tvpn.example',
  ipv6: {
    clientPrefix: { prefix: 'fd74:7670:6e00:2::', prefixLength: 64 },
    network: { prefix: 'fd74:7670:6e00::', prefixLength: 48 },
    gateway: 'fd74:7670:6e00::1',
    routes: [{ prefix: '2001:db8:99::', prefixLength: 48 }],
    dnsServers: ['fd74:7670:6e00::53'],
  },
};
