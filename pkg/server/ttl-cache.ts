// The caches of delegated authentication and authorization (upstream
// k8s.io/apiserver/pkg/authentication/token/cache and the webhook authorizer's LRU): answers kept
// for a TTL chosen per answer (a SubjectAccessReview's allow lives longer than its deny), bounded
// in size, and concurrent lookups of one key share one request, so a burst of identical requests
// costs the API server one review. Failures to ask (the API server unreachable) are never cached:
// the next request asks again.

import { type Clock, realClock } from "../runtime/clock.js";

/** Upstream's webhook caches hold 10 000 entries (LRU); the oldest entry goes first here. */
export const DEFAULT_MAX_ENTRIES = 10_000;

interface Entry<V> {
  value: V;
  expires: number;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<V>>();
  readonly #clock: Clock;
  readonly #max: number;

  constructor(o: { clock?: Clock; maxEntries?: number } = {}) {
    this.#clock = o.clock ?? realClock;
    this.#max = o.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value of key, unless it has expired. */
  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Keeps value for ttlMs (0 or less: not kept). */
  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (ttlMs <= 0) return;
    this.#entries.set(key, { value, expires: this.#clock.now() + ttlMs });
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /**
   * The cached value, or load()'s, kept for ttl(value). Callers asking for a key already being
   * loaded wait for that load; a load that throws is shared by its waiters and not kept.
   */
  async getOrLoad(key: string, load: () => Promise<V>, ttl: (value: V) => number): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const p = (async () => {
      try {
        const value = await load();
        this.set(key, value, ttl(value));
        return value;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, p);
    return p;
  }
}
