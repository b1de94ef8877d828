// pods/eviction (upstream pkg/registry/core/pod/storage/eviction.go, EvictionREST.Create): a
// policy/v1 Eviction deletes the pod with the eviction's DeleteOptions, unless that would break
// the PodDisruptionBudget covering the pod. A pod that is not running (Pending, Succeeded,
// Failed) or already being deleted is deleted at once. Otherwise the one budget selecting the
// pod must allow a disruption: its status.disruptionsAllowed is decremented and the pod recorded
// in status.disruptedPods (a conditional write on the budget's resourceVersion, retried on
// conflict) before the delete, so concurrent evictions never overspend a budget; the disruption
// controller recomputes the budget from what the pods then do. The pod is marked with the
// DisruptionTarget condition before its delete, as upstream. An unready pod does not count
// as healthy, so evicting it spends nothing when the budget is met (or always, with
// unhealthyPodEvictionPolicy AlwaysAllow).

import { badRequest, conflict, isConflict, type Status, StatusError } from "#pkg/api/errors.js";
import type { DeleteOptions, KubeObject } from "#pkg/api/meta.js";
import { budgetSelects, updateDisruptionAllowedCondition } from "#pkg/api/poddisruptionbudget.js";
import { metaTime } from "#pkg/api/time.js";
import type { Pod } from "#pkg/api/types/core.js";
import { DISRUPTION_BUDGET_CAUSE, type PodDisruptionBudget } from "#pkg/api/types/policy.js";
import { isPodReady } from "#pkg/controller/pod-util.js";
import type { RequestContext, StoreView } from "../../../http/types.js";

/** upstream MaxDisruptedPodSize: more admitted-but-unobserved evictions than this are refused. */
export const MAX_DISRUPTED_POD_SIZE = 2000;

/** upstream EvictionsRetry: 20 attempts 500 ms apart (10% jitter) on conflicts. */
const RETRY_STEPS = 20;
const RETRY_DELAY_MS = 500;

const VIOLATION_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

/** An Eviction as decoded (metadata checked against the URL's namespace by checkObject). */
export interface Eviction extends KubeObject {
  deleteOptions?: DeleteOptions | null;
}

export interface EvictionDeps {
  pods: Pick<StoreView, "get" | "update" | "delete">;
  pdbs: Pick<StoreView, "get" | "list" | "update">;
  /** Wall clock in ms (disruptedPods timestamps). */
  now?: () => number;
  /** Waits between conflict retries. */
  sleep?: (ms: number) => Promise<void>;
}

function tooManyRequests(retryAfterSeconds: number, cause: string): StatusError {
  return new StatusError(429, "TooManyRequests", VIOLATION_MESSAGE, {
    ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }],
  });
}

/** upstream createTooManyRequestsError: the budget is not yet up to date; try again later. */
function budgetPendingError(pdbName: string): StatusError {
  return tooManyRequests(10, `The disruption budget ${pdbName} is still being processed by the server.`);
}

function pdbForbidden(name: string, why: string): StatusError {
  return new StatusError(403, "Forbidden", `poddisruptionbudgets.policy "${name}" is forbidden: ${why}`, {
    name,
    group: "policy",
    kind: "poddisruptionbudgets",
  });
}

/** upstream canIgnorePDB: a pod that is not running, or already going, disrupts nothing more. */
function canIgnorePDB(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed" || phase === "Pending" || !!pod.metadata.deletionTimestamp;
}

/** upstream shouldEnforceResourceVersion: delete only the pod we looked at, unless it is finished or going. */
function shouldEnforceResourceVersion(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata.deletionTimestamp;
}

function withResourceVersion(opts: DeleteOptions, rv: string | undefined): DeleteOptions {
  return { ...opts, preconditions: { ...(opts.preconditions ?? {}), ...(rv ? { resourceVersion: rv } : {}) } };
}

/** upstream propagateDryRun: the request's ?dryRun and the body's deleteOptions.dryRun must agree. */
function propagateDryRun(options: DeleteOptions, ctx: RequestContext): DeleteOptions {
  const fromQuery = ctx.dryRun ? ["All"] : [];
  const fromBody = options.dryRun ?? [];
  if (fromBody.length === 0) return fromQuery.length > 0 ? { ...options, dryRun: fromQuery } : options;
  if (fromQuery.length > 0 && fromQuery.join(",") !== fromBody.join(",")) {
    throw badRequest(
      `Non-matching dry-run options in request and content: [${fromQuery.join(" ")}] and [${fromBody.join(" ")}]`,
    );
  }
  return options;
}

const POD_RESOURCE = { group: "", resource: "pods" };

/**
 * upstream UpdatePodCondition with DisruptionTarget=True: a copy of pod (resourceVersion kept, so
 * the write is conditional) whose condition says it is being evicted.
 */
function withDisruptionTarget(pod: Pod, now: number): Pod {
  const next = structuredClone(pod);
  const status = next.status ?? {};
  next.status = status;
  const conditions = status.conditions ?? [];
  const old = conditions.find((c) => c.type === "DisruptionTarget");
  const cond = {
    type: "DisruptionTarget",
    status: "True",
    reason: "EvictionByEvictionAPI",
    message: "Eviction API: evicting",
    lastProbeTime: old?.lastProbeTime ?? null,
    lastTransitionTime: old?.status === "True" ? (old.lastTransitionTime ?? metaTime(now)) : metaTime(now),
  };
  status.conditions = old ? conditions.map((c) => (c === old ? cond : c)) : [...conditions, cond];
  return next;
}

const SUCCESS: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };

export class EvictionREST {
  readonly #pods: EvictionDeps["pods"];
  readonly #pdbs: EvictionDeps["pdbs"];
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(deps: EvictionDeps) {
    this.#pods = deps.pods;
    this.#pdbs = deps.pdbs;
    this.#now = deps.now ?? Date.now;
    this.#sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * Evicts pod ns/name. Resolves to a Success Status, or to a Failure Status with code 500 when
   * several budgets cover the pod (upstream answers that as a Status, not an error); throws
   * 429 TooManyRequests when a budget forbids it.
   */
  async create(
    ns: string,
    name: string,
    eviction: Eviction,
    requested: DeleteOptions,
    ctx: RequestContext,
  ): Promise<Status> {
    if (eviction.metadata.name && eviction.metadata.name !== name) {
      throw badRequest("name in URL does not match name in Eviction object");
    }
    const original = propagateDryRun(requested, ctx);
    const dryRun = (original.dryRun ?? []).includes("All");
    const dctx: RequestContext = dryRun ? { ...ctx, dryRun: true } : ctx;
    const rvRequested = original.preconditions?.resourceVersion !== undefined;

    // Pods the budgets need not be asked about are deleted here, retrying if they change meanwhile
    // (not when the caller pinned a resourceVersion: then a conflict is the answer).
    let pod: Pod | undefined;
    for (let attempt = 1; ; attempt++) {
      pod = (await this.#pods.get(ns, name)) as Pod;
      if (!canIgnorePDB(pod)) break;
      const opts =
        shouldEnforceResourceVersion(pod) && !rvRequested
          ? withResourceVersion(original, pod.metadata.resourceVersion)
          : original;
      try {
        await this.#addConditionAndDelete(ns, name, opts, dctx, dryRun);
        return SUCCESS;
      } catch (err) {
        if (rvRequested || !isConflict(err) || attempt >= RETRY_STEPS) throw err;
        await this.#sleep(this.#retryDelay());
      }
    }

    const pdbs = await this.#budgetsFor(pod);
    if (pdbs.length > 1) {
      return {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        code: 500,
      };
    }
    let pinPod = false;
    const first = pdbs[0];
    if (first) {
      if (!isPodReady(pod) && this.#unhealthyMayGo(first)) {
        // An unready pod is not counted as healthy: evicting it spends nothing, but only this
        // very pod (it must not become ready meanwhile).
        pinPod = true;
      } else {
        await this.#checkAndDecrement(ns, name, first, dryRun);
      }
    }

    const opts = pinPod ? withResourceVersion(original, pod.metadata.resourceVersion) : original;
    try {
      await this.#addConditionAndDelete(ns, name, opts, dctx, dryRun);
    } catch (err) {
      // The pod changed since we decided (it may have become ready): let the client try again.
      if (isConflict(err) && pinPod && !rvRequested) throw budgetPendingError(first?.metadata.name ?? "");
      throw err;
    }
    return SUCCESS;
  }

  /**
   * upstream addConditionAndDeletePod: marks the pod DisruptionTarget=True (EvictionByEvictionAPI)
   * through its status, on the latest copy and only if opts' preconditions hold, then deletes it
   * (a resourceVersion precondition moves to the version that write made).
   */
  async #addConditionAndDelete(
    ns: string,
    name: string,
    opts: DeleteOptions,
    ctx: RequestContext,
    dryRun: boolean,
  ): Promise<void> {
    let options = opts;
    if (!dryRun) {
      const pre = opts.preconditions;
      for (let attempt = 1; ; attempt++) {
        const latest = (await this.#pods.get(ns, name)) as Pod;
        if (pre?.uid && pre.uid !== latest.metadata.uid) {
          throw conflict(
            POD_RESOURCE,
            name,
            `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${latest.metadata.uid ?? ""}`,
          );
        }
        if (pre?.resourceVersion && pre.resourceVersion !== latest.metadata.resourceVersion) {
          throw conflict(
            POD_RESOURCE,
            name,
            `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${latest.metadata.resourceVersion ?? ""}`,
          );
        }
        try {
          const { object } = await this.#pods.update(
            ns,
            name,
            withDisruptionTarget(latest, this.#now()) as KubeObject,
            {
              ...ctx,
              subresource: "status",
            },
          );
          if (pre?.resourceVersion && object.metadata.resourceVersion) {
            options = { ...opts, preconditions: { ...pre, resourceVersion: object.metadata.resourceVersion } };
          }
          break;
        } catch (err) {
          // Someone else wrote the pod meanwhile: mark the newer copy.
          if (!isConflict(err) || attempt >= RETRY_STEPS) throw err;
        }
      }
    }
    await this.#pods.delete(ns, name, options, ctx);
  }

  /** unhealthyPodEvictionPolicy: AlwaysAllow, or (unset / IfHealthyBudget) while the budget is met. */
  #unhealthyMayGo(pdb: PodDisruptionBudget): boolean {
    if (pdb.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow") return true;
    const s = pdb.status;
    return !!s && s.currentHealthy >= s.desiredHealthy && s.desiredHealthy > 0;
  }

  /** upstream getPodDisruptionBudgets: the budgets of the pod's namespace whose selector selects it. */
  async #budgetsFor(pod: Pod): Promise<PodDisruptionBudget[]> {
    const list = await this.#pdbs.list(pod.metadata.namespace, {});
    return (list.items as PodDisruptionBudget[]).filter(
      (pdb) =>
        pdb.metadata.namespace === pod.metadata.namespace &&
        budgetSelects(pdb, pod.metadata.labels, { emptySelectsAll: false }),
    );
  }

  /**
   * upstream checkAndDecrement under RetryOnConflict: spends one disruption of the budget and
   * records the pod in disruptedPods, re-reading the budget after a conflicting write.
   */
  async #checkAndDecrement(ns: string, podName: string, initial: PodDisruptionBudget, dryRun: boolean): Promise<void> {
    let pdb = initial;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#tryDecrement(ns, podName, pdb, dryRun);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= RETRY_STEPS) throw err;
      }
      await this.#sleep(this.#retryDelay());
      pdb = (await this.#pdbs.get(ns, pdb.metadata.name ?? "")) as PodDisruptionBudget;
    }
  }

  async #tryDecrement(ns: string, podName: string, pdb: PodDisruptionBudget, dryRun: boolean): Promise<void> {
    const name = pdb.metadata.name ?? "";
    const status = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw budgetPendingError(name);
    if (status.disruptionsAllowed < 0) throw pdbForbidden(name, "pdb disruptions allowed is negative");
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
      throw pdbForbidden(name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
    }
    if (status.disruptionsAllowed === 0) {
      throw tooManyRequests(
        0,
        `The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
      );
    }
    if (dryRun) return;
    const next = structuredClone(pdb);
    const s = { ...status, ...structuredClone(next.status ?? {}) };
    next.status = s;
    s.disruptionsAllowed--;
    const now = this.#now();
    if (s.disruptionsAllowed === 0) updateDisruptionAllowedCondition(next, now);
    // Tells the disruption controller not to count this pod as healthy while its delete lands.
    s.disruptedPods = { ...(s.disruptedPods ?? {}), [podName]: metaTime(now) };
    // The resourceVersion read makes the write conditional: a concurrent eviction conflicts.
    await this.#pdbs.update(ns, name, next, { subresource: "status" });
  }

  #retryDelay(): number {
    return RETRY_DELAY_MS * (1 + Math.random() * 0.1);
  }
}
