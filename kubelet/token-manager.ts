// TokenManager (upstream pkg/kubelet/token): the bound ServiceAccount tokens of projected
// serviceAccountToken volumes, requested through the API server's TokenRequest
// (POST serviceaccounts/<name>/token, bound to the pod) as the node, cached per pod, account,
// audience and lifetime, and requested again once less than a fifth of the lifetime is left or
// the token is a day old, so the volume (rewritten on every pod sync) always holds a live
// token. A failed refresh keeps serving the cached token while it is still valid.

import type { KubeObject } from "#pkg/api/meta.js";
import { type ResourceInfo, type ResourceType, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { ApiClient } from "#pkg/client/client.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";

/** authentication.k8s.io/v1 TokenRequest, the fields the kubelet sends and reads. */
export interface TokenRequest extends KubeObject {
  spec: {
    audiences: string[];
    expirationSeconds?: number;
    boundObjectRef?: { apiVersion: string; kind: string; name: string; uid: string };
  };
  status?: { token: string; expirationTimestamp: string };
}

/** upstream maxTTL: a token is refreshed at least daily, however long it lives. */
const MAX_TTL_MS = 24 * 3_600_000;
/** The API's default lifetime of a projected token. */
const DEFAULT_EXPIRATION_SECONDS = 3600;

interface Cached {
  token: string;
  expiresAt: number;
  /** When it was issued: now at the request (the server's iat is within a request of it). */
  issuedAt: number;
  ttlMs: number;
  podUID: string;
}

export interface TokenPod {
  namespace: string;
  name: string;
  uid: string;
  serviceAccountName: string;
}

export interface TokenManagerOptions {
  /** Requests the token (the kubelet's client posts it as the node). */
  request(namespace: string, serviceAccount: string, tr: TokenRequest): Promise<TokenRequest>;
  log: Logger;
  clock?: Clock;
}

export class TokenManager {
  readonly #cache = new Map<string, Cached>();
  readonly #clock: Clock;

  constructor(private readonly o: TokenManagerOptions) {
    this.#clock = o.clock ?? realClock;
  }

  /** A client that posts TokenRequests through the API server. */
  static requester(client: ApiClient): TokenManagerOptions["request"] {
    // The subresource posts and answers a TokenRequest, not a ServiceAccount.
    const info: ResourceInfo = SERVICEACCOUNTS;
    const tokens: ResourceType<TokenRequest> = info;
    return (namespace, serviceAccount, tr) =>
      client.create<TokenRequest>(tokens, namespace, tr, {
        name: serviceAccount,
        subresource: "token",
      });
  }

  /** The token for a projection of pod's volume: cached while fresh, else requested. */
  async token(pod: TokenPod, projection: { audience?: string; expirationSeconds?: number }): Promise<string> {
    const audiences = projection.audience ? [projection.audience] : [];
    const expirationSeconds = projection.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    const key = JSON.stringify([pod.namespace, pod.serviceAccountName, audiences, expirationSeconds, pod.uid]);
    const cached = this.#cache.get(key);
    const now = this.#clock.now();
    if (cached && !this.#needsRefresh(cached, now)) return cached.token;
    try {
      const tr = await this.o.request(pod.namespace, pod.serviceAccountName, {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: {},
        spec: {
          audiences,
          expirationSeconds,
          boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid },
        },
      });
      const token = tr.status?.token;
      const expiresAt = Date.parse(tr.status?.expirationTimestamp ?? "");
      if (!token || Number.isNaN(expiresAt)) throw new Error("the TokenRequest response holds no token");
      // The server may shorten the lifetime (--service-account-max-token-expiration).
      const ttlMs = Math.max(0, expiresAt - now);
      this.#cache.set(key, { token, expiresAt, issuedAt: now, ttlMs, podUID: pod.uid });
      return token;
    } catch (err) {
      if (cached && now < cached.expiresAt) {
        this.o.log.warn(
          { err, pod: `${pod.namespace}/${pod.name}`, serviceAccount: pod.serviceAccountName },
          "token refresh failed; the cached token is still valid",
        );
        return cached.token;
      }
      throw new Error(`failed to fetch token: ${(err as Error).message}`);
    }
  }

  /** Forgets the tokens of a pod that is gone (upstream DeleteServiceAccountToken). */
  forgetPod(uid: string): void {
    for (const [k, v] of this.#cache) if (v.podUID === uid) this.#cache.delete(k);
  }

  /** upstream requiresRefresh: expired, a day old, or less than 20% of its lifetime left. */
  #needsRefresh(c: Cached, now: number): boolean {
    if (now >= c.expiresAt) return true;
    if (now >= c.issuedAt + MAX_TTL_MS) return true;
    return now >= c.expiresAt - c.ttlMs * 0.2;
  }
}
