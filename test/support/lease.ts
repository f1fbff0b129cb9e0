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
