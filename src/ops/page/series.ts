/**
 * Which byte totals the status page charts for each role: per configured
 * client on a server, the one tunnel on a client, the forwarded bytes on a
 * relay ("received" toward the server, "sent" toward the client).
 */
import type { DaemonSnapshot } from '../snapshot.js';
import type { ByteTotals } from './history.js';

export function throughputSeries(s: DaemonSnapshot): ByteTotals[] {
  switch (s.role) {
    case 'server':
      return s.clients.map((c) => ({ key: c.name, bytesReceived: c.traffic.bytesReceived, bytesSent: c.traffic.bytesSent }));
    case 'client':
      return [{ key: s.name, bytesReceived: s.traffic.bytesReceived, bytesSent: s.traffic.bytesSent }];
    case 'relay':
      return [{ key: s.name, bytesReceived: s.bytesToNext, bytesSent: s.bytesToPrevious }];
  }
}
