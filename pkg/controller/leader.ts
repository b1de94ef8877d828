// LeaderElector: client-go's leaderelection on a coordination.k8s.io/v1 Lease, so several
// replicas of a scheduler or controller-manager can run and only one acts.
//
// - Campaign: every retryPeriod, try to create the Lease (if absent) or take it over once it has
//   expired: holder empty, or not renewed for leaseDurationSeconds (by its renewTime, and by our
//   own observation of the record not changing, which guards against clock skew as upstream).
// - Lead: renew every retryPeriod; if no renew succeeds within renewDeadline, leadership is
//   lost: the leading signal aborts and onStoppedLeading runs.
// - Every write is an update carrying the observed resourceVersion: two candidates racing for
//   the same Lease cannot both win (the loser gets 409 Conflict).
// - On shutdown while leading, the Lease is released (holder cleared) so a successor takes over
//   at once instead of waiting for it to expire.

import { isAlreadyExists, isConflict, isNotFound } from "../api/errors.js";
import { LEASES } from "../api/resources.js";
import { microTime } from "../api/time.js";
import type { Lease } from "../api/types/coordination.js";
import type { ApiClient } from "../client/client.js";
import { type Clock, realClock } from "../runtime/clock.js";
import { type Logger, silentLogger } from "../runtime/log.js";
import { jitterUntil, pollUntil } from "../runtime/wait.js";

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  /** Unique per candidate, e.g. `${hostname}_${uuid}`. */
  identity: string;
  /** How long a non-renewed lease stays valid (default 15 s, as upstream). */
  leaseDurationSeconds?: number;
  /** How long the leader keeps retrying a failing renew before giving up (default 10 s). */
  renewDeadlineSeconds?: number;
  /** Interval between acquire/renew attempts (default 2 s). */
  retryPeriodSeconds?: number;
  log?: Logger;
  clock?: Clock;
}

export interface LeaderCallbacks {
  /** Called when this candidate becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  onStoppedLeading?(): void;
  /** Called when the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export class LeaderElector {
  readonly #client: ApiClient;
  readonly #o: Required<Omit<LeaderElectorOptions, "log" | "clock">>;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** The Lease as last read or written by us. */
  #observed: Lease | undefined;
  /** Local time at which the observed record last changed. */
  #observedAt = 0;
  #observedKey = "";
  #leader = "";
  #isLeader = false;

  constructor(client: ApiClient, o: LeaderElectorOptions) {
    this.#client = client;
    this.#o = {
      namespace: o.namespace,
      name: o.name,
      identity: o.identity,
      leaseDurationSeconds: o.leaseDurationSeconds ?? 15,
      renewDeadlineSeconds: o.renewDeadlineSeconds ?? 10,
      retryPeriodSeconds: o.retryPeriodSeconds ?? 2,
    };
    if (this.#o.renewDeadlineSeconds >= this.#o.leaseDurationSeconds)
      throw new Error("leaseDurationSeconds must be greater than renewDeadlineSeconds");
    this.#clock = o.clock ?? realClock;
    this.#log = (o.log ?? silentLogger).child({
      lease: `${o.namespace}/${o.name}`,
      identity: o.identity,
    });
  }

  /** True while this candidate holds the lease. */
  isLeader(): boolean {
    return this.#isLeader;
  }

  /** Identity of the holder we last observed ("" if none). */
  getLeader(): string {
    return this.#leader;
  }

  /**
   * Campaigns until leading, leads until the lease is lost or signal aborts, then returns
   * (as client-go's Run: callers typically exit, or call run() again to campaign anew).
   */
  async run(signal: AbortSignal, cb: LeaderCallbacks): Promise<void> {
    const retryMs = this.#o.retryPeriodSeconds * 1000;
    // Campaign: try every retryPeriod (plus up to 20 % jitter) until acquired.
    const acquired = new AbortController();
    await jitterUntil(
      async () => {
        if (await this.#tryAcquireOrRenew(signal, cb)) acquired.abort();
      },
      retryMs,
      AbortSignal.any([signal, acquired.signal]),
      { jitterFactor: 0.2, clock: this.#clock },
    );
    if (signal.aborted) return;

    this.#isLeader = true;
    this.#log.info("became leader");
    const leading = new AbortController();
    const onAbort = () => leading.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const work = Promise.resolve()
      .then(() => cb.onStartedLeading(leading.signal))
      .catch((err: unknown) => this.#log.error({ err }, "onStartedLeading failed"));

    // Renew every retryPeriod until a renew fails for renewDeadline or we are told to stop.
    let lastRenew = this.#clock.now();
    await pollUntil(
      async () => {
        if (await this.#tryAcquireOrRenew(signal, cb)) {
          lastRenew = this.#clock.now();
          return false;
        }
        if (this.#clock.now() - lastRenew >= this.#o.renewDeadlineSeconds * 1000 || !this.#heldByUs()) {
          this.#log.warn({ leader: this.#leader }, "failed to renew lease: leadership lost");
          return true;
        }
        return false;
      },
      retryMs,
      { signal, clock: this.#clock },
    );
    signal.removeEventListener("abort", onAbort);
    this.#isLeader = false;
    leading.abort();
    if (signal.aborted) await this.#release();
    await work;
    try {
      cb.onStoppedLeading?.();
    } catch (err) {
      this.#log.error({ err }, "onStoppedLeading failed");
    }
  }

  #heldByUs(): boolean {
    return this.#observed?.spec?.holderIdentity === this.#o.identity;
  }

  #observe(lease: Lease, cb: LeaderCallbacks): void {
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ""}|${spec.renewTime ?? ""}|${spec.leaseTransitions ?? 0}`;
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = this.#clock.now();
    }
    this.#observed = lease;
    const holder = spec.holderIdentity ?? "";
    if (holder !== this.#leader) {
      this.#leader = holder;
      if (holder) {
        this.#log.info({ leader: holder }, "new leader observed");
        try {
          cb.onNewLeader?.(holder);
        } catch (err) {
          this.#log.error({ err }, "onNewLeader failed");
        }
      }
    }
  }

  /** One attempt: create, renew, or take over the lease. False if someone else validly holds it or a write lost. */
  async #tryAcquireOrRenew(signal: AbortSignal, cb: LeaderCallbacks): Promise<boolean> {
    const now = this.#clock.now();
    const { namespace, name, identity, leaseDurationSeconds } = this.#o;
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(this.#o.renewDeadlineSeconds * 1000)]);
    let current: Lease;
    try {
      current = await this.#client.get(LEASES, namespace, name, { signal: timeout });
    } catch (err) {
      if (signal.aborted) return false;
      if (!isNotFound(err)) {
        this.#log.warn({ err }, "cannot read lease");
        return false;
      }
      const lease: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      };
      try {
        this.#observe(await this.#client.create(LEASES, namespace, lease, { signal: timeout }), cb);
        return true;
      } catch (err) {
        if (!isAlreadyExists(err) && !signal.aborted) this.#log.warn({ err }, "cannot create lease");
        return false;
      }
    }
    this.#observe(current, cb);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    if (holder && holder !== identity && this.#valid(current, now)) return false;

    const weHeld = holder === identity;
    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now),
        acquireTime: weHeld && spec.acquireTime ? spec.acquireTime : microTime(now),
        leaseTransitions: weHeld ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      this.#observe(await this.#client.update(LEASES, namespace, next, { signal: timeout }), cb);
      if (!weHeld) this.#log.info({ previous: holder || undefined }, "acquired lease");
      return true;
    } catch (err) {
      if (signal.aborted) return false;
      if (isConflict(err)) this.#log.debug("lease changed under us (conflict)");
      else this.#log.warn({ err }, "cannot update lease");
      return false;
    }
  }

  /** Held by someone and renewed recently, by its own renewTime and by our observation. */
  #valid(lease: Lease, now: number): boolean {
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.#o.leaseDurationSeconds) * 1000;
    const renewed = Date.parse(lease.spec?.renewTime ?? "");
    const byRenewTime = Number.isFinite(renewed) ? renewed + durationMs > now : false;
    const byObservation = this.#observedAt + durationMs > now;
    return byRenewTime && byObservation;
  }

  /**
   * Gives the lease up so a successor need not wait for it to expire (upstream ReleaseOnCancel).
   * A renewal cut short by the shutdown may still have been written, leaving what we observed a
   * version behind: on a conflict the Lease is read again and released if it is still ours.
   */
  async #release(): Promise<void> {
    let lease = this.#observed;
    const signal = AbortSignal.timeout(this.#o.renewDeadlineSeconds * 1000);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!lease || lease.spec?.holderIdentity !== this.#o.identity) return;
      const now = this.#clock.now();
      const released: Lease = {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: microTime(now),
          renewTime: microTime(now),
        },
      };
      try {
        await this.#client.update(LEASES, this.#o.namespace, released, { signal });
        this.#log.info("released lease");
        return;
      } catch (err) {
        if (!isConflict(err)) {
          this.#log.warn({ err }, "cannot release lease");
          return;
        }
        try {
          lease = await this.#client.get<Lease>(LEASES, this.#o.namespace, this.#o.name, { signal });
        } catch (getErr) {
          this.#log.warn({ err: getErr }, "cannot release lease");
          return;
        }
      }
    }
    this.#log.warn("cannot release lease: it kept changing");
  }
}
