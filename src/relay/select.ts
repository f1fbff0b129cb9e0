/**
 * Choosing a tunnel server of a group, pure: given what the relay knows of
 * each member (last authenticated status answer, tunnels it sent there since,
 * recent connect failures) and the current time, the order in which to try
 * them. Guarantees: every member appears exactly once; healthy members come
 * first, fewest estimated tunnels first (ties: the one chosen least recently,
 * then config order); members that failed a connect recently or stopped
 * answering come after every healthy one, so failover still has somewhere to
 * go when probes are wrong but never prefers a member known to be down.
 */

export interface MemberState {
  /** host:port of the tunnel server. */
  address: string;
  /** Has a status port: health comes from probes. Without one, only connect failures count. */
  probed: boolean;
  /** Time of the last authenticated status answer (ms), or undefined. */
  lastAnswerMs: number | undefined;
  /** activeTunnels from that answer. */
  reportedTunnels: number;
  /** Tunnels this relay opened to the member after that answer (counted until the next one). */
  sentSinceAnswer: number;
  /** Time of the last failed connect (ms), or undefined. */
  lastConnectFailureMs: number | undefined;
  /** Time this member was last chosen (ms), for spreading ties. */
  lastChosenMs: number;
}

export interface SelectPolicy {
  /** A probed member is healthy while its last answer is younger than this. */
  healthyForMs: number;
  /** A member whose connect failed is avoided for this long. */
  failureHoldMs: number;
}

export function newMemberState(address: string, probed: boolean): MemberState {
  return { address, probed, lastAnswerMs: undefined, reportedTunnels: 0, sentSinceAnswer: 0, lastConnectFailureMs: undefined, lastChosenMs: 0 };
}

export function isHealthy(member: MemberState, nowMs: number, policy: SelectPolicy): boolean {
  if (member.lastConnectFailureMs !== undefined && nowMs - member.lastConnectFailureMs < policy.failureHoldMs) {
    // A later good answer clears the hold: the server came back.
    if (member.lastAnswerMs === undefined || member.lastAnswerMs <= member.lastConnectFailureMs) return false;
  }
  if (!member.probed) return true;
  return member.lastAnswerMs !== undefined && nowMs - member.lastAnswerMs < policy.healthyForMs;
}

/** The load estimate: the server's own count plus what we sent it since it counted. */
export function estimatedTunnels(member: MemberState): number {
  return member.reportedTunnels + member.sentSinceAnswer;
}

/** Members in the order to try them (see the module comment). */
export function orderCandidates(members: readonly MemberState[], nowMs: number, policy: SelectPolicy): MemberState[] {
  const ranked = members.map((member, index) => ({ member, index, healthy: isHealthy(member, nowMs, policy) }));
  ranked.sort((a, b) => {
    if (a.healthy !== b.healthy) return a.healthy ? -1 : 1;
    const load = estimatedTunnels(a.member) - estimatedTunnels(b.member);
    if (load !== 0) return load;
    if (a.member.lastChosenMs !== b.member.lastChosenMs) return a.member.lastChosenMs - b.member.lastChosenMs;
    return a.index - b.index;
  });
  return ranked.map((r) => r.member);
}
