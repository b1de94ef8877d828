// Round-robin over a service port's endpoints, with ClientIP session affinity (upstream's
// userspace LoadBalancerRR, pkg/proxy/userspace/roundrobin.go): each new connection (or UDP
// client) takes the next endpoint; a client with affinity keeps its endpoint while it stays in
// the list and was used within the timeout.

import { type Clock, realClock } from "#pkg/runtime/clock.js";

interface Affinity {
  endpoint: string;
  lastUsedMs: number;
}

interface BalancerState {
  endpoints: string[];
  index: number;
  affinityTimeoutMs?: number;
  affinity: Map<string, Affinity>;
}

export class RoundRobin {
  readonly #services = new Map<string, BalancerState>();
  readonly #clock: Clock;

  constructor(o: { clock?: Clock } = {}) {
    this.#clock = o.clock ?? realClock;
  }

  /**
   * update sets a service port's endpoints ("ip:port", in the order given) and affinity. The
   * rotation restarts when the list changes; affinities to endpoints that left are dropped.
   */
  update(name: string, endpoints: readonly string[], affinityTimeoutSeconds?: number): void {
    const prev = this.#services.get(name);
    const same =
      prev !== undefined &&
      prev.endpoints.length === endpoints.length &&
      prev.endpoints.every((e, i) => e === endpoints[i]);
    const state: BalancerState = {
      endpoints: [...endpoints],
      index: same ? prev.index : 0,
      ...(affinityTimeoutSeconds !== undefined ? { affinityTimeoutMs: affinityTimeoutSeconds * 1000 } : {}),
      affinity: new Map(),
    };
    if (prev && affinityTimeoutSeconds !== undefined) {
      const keep = new Set(endpoints);
      for (const [client, a] of prev.affinity) if (keep.has(a.endpoint)) state.affinity.set(client, a);
    }
    this.#services.set(name, state);
  }

  delete(name: string): void {
    this.#services.delete(name);
  }

  keys(): string[] {
    return [...this.#services.keys()];
  }

  has(name: string): boolean {
    return this.#services.has(name);
  }

  endpoints(name: string): readonly string[] {
    return this.#services.get(name)?.endpoints ?? [];
  }

  /** next: the endpoint for a new connection from clientIP; undefined when there is none. */
  next(name: string, clientIP?: string): string | undefined {
    const s = this.#services.get(name);
    if (!s || s.endpoints.length === 0) return undefined;
    const now = this.#clock.now();
    if (s.affinityTimeoutMs !== undefined && clientIP) {
      const a = s.affinity.get(clientIP);
      if (a && now - a.lastUsedMs < s.affinityTimeoutMs) {
        a.lastUsedMs = now;
        return a.endpoint;
      }
    }
    const endpoint = s.endpoints[s.index % s.endpoints.length] as string;
    s.index = (s.index + 1) % s.endpoints.length;
    if (s.affinityTimeoutMs !== undefined && clientIP) s.affinity.set(clientIP, { endpoint, lastUsedMs: now });
    return endpoint;
  }
}
