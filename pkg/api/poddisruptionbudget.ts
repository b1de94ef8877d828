// PodDisruptionBudget helpers shared by the eviction subresource and the disruption controller
// (upstream k8s.io/component-helpers/apps/poddisruptionbudget and apimachinery's
// meta.SetStatusCondition): the DisruptionAllowed condition, and which budgets cover a pod.

import { selectorFromLabelSelector } from "./labels.js";
import { metaTime } from "./time.js";
import type { Condition } from "./types/meta.js";
import {
  DISRUPTION_ALLOWED_CONDITION,
  INSUFFICIENT_PODS_REASON,
  type PodDisruptionBudget,
  SUFFICIENT_PODS_REASON,
} from "./types/policy.js";

/**
 * upstream meta.SetStatusCondition: adds c, or updates the condition of its type in place;
 * lastTransitionTime moves only when status changes. Returns whether anything changed.
 */
export function setStatusCondition(conditions: Condition[], c: Condition, now: number = Date.now()): boolean {
  const existing = conditions.find((x) => x.type === c.type);
  if (!existing) {
    conditions.push({ ...c, lastTransitionTime: c.lastTransitionTime ?? metaTime(now) });
    return true;
  }
  let changed = false;
  if (existing.status !== c.status) {
    existing.status = c.status;
    existing.lastTransitionTime = c.lastTransitionTime ?? metaTime(now);
    changed = true;
  }
  for (const f of ["reason", "message", "observedGeneration"] as const) {
    if (existing[f] !== c[f]) {
      (existing as Record<string, unknown>)[f] = c[f];
      changed = true;
    }
  }
  return changed;
}

/** upstream UpdateDisruptionAllowedCondition: True/SufficientPods while disruptions are allowed, else False/InsufficientPods. */
export function updateDisruptionAllowedCondition(pdb: PodDisruptionBudget, now: number = Date.now()): void {
  const status = pdb.status;
  if (!status) return;
  status.conditions ??= [];
  const allowed = status.disruptionsAllowed > 0;
  setStatusCondition(
    status.conditions,
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? "True" : "False",
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: "",
      observedGeneration: status.observedGeneration ?? 0,
    },
    now,
  );
}

/** upstream ConditionsAreUpToDate: the DisruptionAllowed condition says what the counters say, for this generation. */
export function conditionsAreUpToDate(pdb: PodDisruptionBudget): boolean {
  const status = pdb.status;
  const cond = status?.conditions?.find((c) => c.type === DISRUPTION_ALLOWED_CONDITION);
  if (!status || !cond) return false;
  if ((status.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  if (status.disruptionsAllowed > 0) return cond.status === "True" && cond.reason === SUFFICIENT_PODS_REASON;
  return cond.status === "False" && cond.reason === INSUFFICIENT_PODS_REASON;
}

/**
 * Whether pdb's selector selects a pod with these labels. An invalid selector selects nothing; a
 * missing one nothing; an empty one everything for the disruption controller (policy/v1's rule)
 * but nothing for the eviction subresource (emptySelectsAll false), as upstream has it.
 */
export function budgetSelects(
  pdb: PodDisruptionBudget,
  labels: Record<string, string> | undefined,
  o: { emptySelectsAll: boolean },
): boolean {
  let sel: ReturnType<typeof selectorFromLabelSelector>;
  try {
    sel = selectorFromLabelSelector(pdb.spec?.selector);
  } catch {
    return false;
  }
  if (sel.empty && !o.emptySelectsAll) return false;
  return sel.matches(labels ?? {});
}
