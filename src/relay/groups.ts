/**
 * The next hops this relay's configuration names, at run time: server groups
 * with their members' states (select.ts), kept current by probing each
 * member's status endpoint (src/io/status-exchange.ts) every probe interval
 * and by the outcome of every connect the relay makes; and the addresses it
 * may dial directly (`allowsDirect`: group members and `next_hops`), nothing
 * else. Health changes are logged once per change, not once per probe.
 */
import type { RelayConfig } from '../config/relay-schema.js';
import type { Logger } from '../log.js';
import { splitHostPort } from '../protocol/frames/names.js';
import { probeStatus } from '../io/status-exchange.js';
import { isHealthy, newMemberState, orderCandidates, type MemberState, type SelectPolicy } from './select.js';

const PROBE_TIMEOUT_MAX_MS = 2000;

interface Member {
  state: MemberState;
  host: string;
  statusPort: number | undefined;
  /** What we last logged, to log changes only. */
  wasHealthy: boolean | undefined;
}

export class ServerGroups {
  private readonly groups = new Map<string, Member[]>();
  /** host:port names a RELAY frame may name as the next hop besides a group, compared exactly as written. */
  private readonly direct: ReadonlySet<string>;
  private readonly policy: SelectPolicy;
  private timer: NodeJS.Timeout | undefined;
  private readonly probeTimeoutMs: number;

  constructor(
    config: RelayConfig,
    private readonly key: Uint8Array | undefined,
    private readonly log: Logger,
  ) {
    const probeIntervalMs = config.status.probe_interval * 1000;
    this.policy = { healthyForMs: config.status.healthy_for * 1000, failureHoldMs: Math.max(probeIntervalMs * 2, 2000) };
    // A slow answer is still an answer: allow up to the health window (at most 2 s), not just the interval.
    this.probeTimeoutMs = Math.min(this.policy.healthyForMs, PROBE_TIMEOUT_MAX_MS);
    for (const group of config.groups) {
      this.groups.set(
        group.name,
        group.servers.map((s) => ({ state: newMemberState(s.address, s.status_port !== undefined), host: splitHostPort(s.address).host, statusPort: s.status_port, wasHealthy: undefined })),
      );
    }
    const members = config.groups.flatMap((g) => g.servers.map((s) => s.address));
    this.direct = new Set([...members, ...config.next_hops.servers, ...config.next_hops.relays]);
  }

  /** True when the configuration names `hop` as a server or relay to dial directly (a group member or a `next_hops` entry). */
  allowsDirect(hop: string): boolean {
    return this.direct.has(hop);
  }

  has(name: string): boolean {
    return this.groups.has(name);
  }

  /** Members of `name` in the order to try them. */
  candidates(name: string, nowMs = Date.now()): MemberState[] {
    return orderCandidates((this.groups.get(name) ?? []).map((m) => m.state), nowMs, this.policy);
  }

  /** A connect to `member` succeeded: count the tunnel until its next status answer. */
  connected(member: MemberState, nowMs = Date.now()): void {
    member.sentSinceAnswer++;
    member.lastChosenMs = nowMs;
  }

  connectFailed(member: MemberState, nowMs = Date.now()): void {
    member.lastConnectFailureMs = nowMs;
  }

  startProbing(intervalMs: number): void {
    if (!this.key || this.groups.size === 0) return;
    void this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** For status(): per group, per member, health and load. */
  snapshot(nowMs = Date.now()): Record<string, Array<{ address: string; healthy: boolean; reportedTunnels: number; sentSinceAnswer: number }>> {
    const out: Record<string, Array<{ address: string; healthy: boolean; reportedTunnels: number; sentSinceAnswer: number }>> = {};
    for (const [name, members] of this.groups) {
      out[name] = members.map(({ state }) => ({ address: state.address, healthy: isHealthy(state, nowMs, this.policy), reportedTunnels: state.reportedTunnels, sentSinceAnswer: state.sentSinceAnswer }));
    }
    return out;
  }

  private async probeAll(): Promise<void> {
    const all = [...this.groups.values()].flat().filter((m) => m.statusPort !== undefined);
    await Promise.all(all.map((m) => this.probe(m)));
  }

  private async probe(member: Member): Promise<void> {
    const result = await probeStatus(member.host, member.statusPort!, this.key!, this.probeTimeoutMs);
    const nowMs = Date.now();
    if (typeof result === 'string') {
      this.logChange(member, nowMs, result);
      return;
    }
    member.state.lastAnswerMs = nowMs;
    member.state.reportedTunnels = result.activeTunnels;
    member.state.sentSinceAnswer = 0;
    this.logChange(member, nowMs);
  }

  private logChange(member: Member, nowMs: number, problem?: string): void {
    const healthy = isHealthy(member.state, nowMs, this.policy);
    if (healthy === member.wasHealthy) return;
    member.wasHealthy = healthy;
    if (healthy) this.log.info({ server: member.state.address, activeTunnels: member.state.reportedTunnels }, 'group member healthy');
    else this.log.warn({ server: member.state.address, problem }, 'group member unhealthy');
  }
}
