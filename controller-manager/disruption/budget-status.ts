// The arithmetic of a PodDisruptionBudget's status (upstream pkg/controller/disruption's
// getExpectedPodCount, countHealthyPods, buildDisruptedPodMap and updatePdbStatus), as pure
// functions of the budget, its pods and the time, so the rounding rules are tested alone.

import { scaledValueFromIntOrPercent } from "#pkg/api/intstr.js";
import { conditionsAreUpToDate, updateDisruptionAllowedCondition } from "#pkg/api/poddisruptionbudget.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "#pkg/api/types/policy.js";
import { isPodReady } from "#pkg/controller/pod-util.js";

/**
 * upstream DeletionTimeout: how long an entry of status.disruptedPods (an eviction the API server
 * admitted) keeps its pod out of the healthy count while its deletion is expected to show.
 */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

/** What the budget's controllers say the pods should number: the sum of their scales. */
export interface ExpectedScale {
  expectedCount: number;
  /** Names of selected pods with no controller (they cannot be counted for percentages). */
  unmanagedPods: string[];
}

/**
 * upstream getExpectedPodCount: expectedPods and desiredHealthy. maxUnavailable, and a percentage
 * minAvailable, are taken against the controllers' scale (percentages rounded up); an integer
 * minAvailable against the pods there are. `scale` is only called when it is needed.
 */
export async function expectedPodCount(
  pdb: PodDisruptionBudget,
  pods: readonly Pod[],
  scale: () => Promise<ExpectedScale>,
): Promise<{ expectedCount: number; desiredHealthy: number; unmanagedPods: string[] }> {
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined) {
    const { expectedCount, unmanagedPods } = await scale();
    const maxUnavailable = scaledValueFromIntOrPercent(spec.maxUnavailable, expectedCount, true);
    return { expectedCount, desiredHealthy: Math.max(0, expectedCount - maxUnavailable), unmanagedPods };
  }
  if (spec.minAvailable !== undefined) {
    if (typeof spec.minAvailable === "number") {
      return { expectedCount: pods.length, desiredHealthy: spec.minAvailable, unmanagedPods: [] };
    }
    const { expectedCount, unmanagedPods } = await scale();
    return {
      expectedCount,
      desiredHealthy: scaledValueFromIntOrPercent(spec.minAvailable, expectedCount, true),
      unmanagedPods,
    };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanagedPods: [] };
}

const timeOf = (t: string): number => Date.parse(t);

/** upstream countHealthyPods: Ready, not being deleted, not an eviction still expected to land. */
export function countHealthyPods(pods: readonly Pod[], disruptedPods: Record<string, string>, nowMs: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const disrupted = disruptedPods[pod.metadata.name ?? ""];
    if (disrupted !== undefined && timeOf(disrupted) + DELETION_TIMEOUT_MS > nowMs) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/**
 * upstream buildDisruptedPodMap: the entries of status.disruptedPods still worth keeping (their
 * pod exists, is not yet being deleted, and the timeout has not run out), the pods whose
 * timeout ran out (their eviction never happened), and when to look again.
 */
export function buildDisruptedPodMap(
  pods: readonly Pod[],
  pdb: PodDisruptionBudget,
  nowMs: number,
): { disruptedPods: Record<string, string>; notDeleted: Pod[]; recheckAtMs: number | undefined } {
  const previous = pdb.status?.disruptedPods ?? {};
  const disruptedPods: Record<string, string> = {};
  const notDeleted: Pod[] = [];
  let recheckAtMs: number | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const name = pod.metadata.name ?? "";
    const disrupted = previous[name];
    if (disrupted === undefined) continue;
    const expectedDeletion = timeOf(disrupted) + DELETION_TIMEOUT_MS;
    if (expectedDeletion < nowMs) {
      notDeleted.push(pod);
    } else {
      if (recheckAtMs === undefined || expectedDeletion < recheckAtMs) recheckAtMs = expectedDeletion;
      disruptedPods[name] = disrupted;
    }
  }
  return { disruptedPods, notDeleted, recheckAtMs };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a?.[k] === b[k]);
}

/**
 * upstream updatePdbStatus: the status to write, or undefined when the stored one already says
 * it. No disruption is allowed while no pods are expected, so a budget whose first pods just
 * appeared is safe before this controller has counted them.
 */
export function nextStatus(
  pdb: PodDisruptionBudget,
  counts: { currentHealthy: number; desiredHealthy: number; expectedCount: number },
  disruptedPods: Record<string, string>,
  nowMs: number,
): PodDisruptionBudgetStatus | undefined {
  const { currentHealthy, desiredHealthy, expectedCount } = counts;
  let disruptionsAllowed = currentHealthy - desiredHealthy;
  if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  const generation = pdb.metadata.generation ?? 0;
  const s = pdb.status;
  if (
    s &&
    s.currentHealthy === currentHealthy &&
    s.desiredHealthy === desiredHealthy &&
    s.expectedPods === expectedCount &&
    s.disruptionsAllowed === disruptionsAllowed &&
    sameMap(s.disruptedPods, disruptedPods) &&
    (s.observedGeneration ?? 0) === generation &&
    conditionsAreUpToDate(pdb)
  ) {
    return undefined;
  }
  const next: PodDisruptionBudget = {
    ...pdb,
    status: {
      currentHealthy,
      desiredHealthy,
      expectedPods: expectedCount,
      disruptionsAllowed,
      ...(Object.keys(disruptedPods).length > 0 ? { disruptedPods } : {}),
      observedGeneration: generation,
      ...(s?.conditions ? { conditions: structuredClone(s.conditions) } : {}),
    },
  };
  updateDisruptionAllowedCondition(next, nowMs);
  return next.status;
}
