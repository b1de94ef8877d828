// policy/v1 PodDisruptionBudget (k8s.io/api/policy/v1/types.go): how many of a set of pods may
// be disrupted voluntarily at once; the pods/eviction subresource honours it.

import type { KubeObject } from "../meta.js";
import { Conditions, Int, IntOrString, MapOf, Obj, Opt, type Static, Str, Time } from "../schema/helpers.js";
import { ConditionSchema, DeleteOptionsSchema, type KindBody, KindSchema, LabelSelectorSchema } from "./meta.js";

/** spec.unhealthyPodEvictionPolicy values; unset behaves as IfHealthyBudget. */
export const UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"] as const;
export type UnhealthyPodEvictionPolicy = (typeof UNHEALTHY_POD_EVICTION_POLICIES)[number];

/** The condition the disruption controller keeps, and its reasons (upstream policy/v1 constants). */
export const DISRUPTION_ALLOWED_CONDITION = "DisruptionAllowed";
export const SYNC_FAILED_REASON = "SyncFailed";
export const SUFFICIENT_PODS_REASON = "SufficientPods";
export const INSUFFICIENT_PODS_REASON = "InsufficientPods";
/** The StatusCause type of an eviction refused by a budget. */
export const DISRUPTION_BUDGET_CAUSE = "DisruptionBudget";

export const PodDisruptionBudgetSpecSchema = Obj({
  minAvailable: Opt(IntOrString("An eviction is allowed if at least this many selected pods stay available.")),
  selector: Opt(LabelSelectorSchema),
  maxUnavailable: Opt(IntOrString("An eviction is allowed if at most this many selected pods are unavailable.")),
  unhealthyPodEvictionPolicy: Opt(Str("IfHealthyBudget or AlwaysAllow")),
});
export type PodDisruptionBudgetSpec = Static<typeof PodDisruptionBudgetSpecSchema>;

// The four counters have no omitempty upstream: they are always present, 0 included.
export const PodDisruptionBudgetStatusSchema = Obj({
  observedGeneration: Opt(Int()),
  disruptedPods: Opt(MapOf(Time(), "pod name -> when the eviction subresource admitted its eviction")),
  disruptionsAllowed: Int(),
  currentHealthy: Int(),
  desiredHealthy: Int(),
  expectedPods: Int(),
  conditions: Opt(Conditions(ConditionSchema)),
});
export type PodDisruptionBudgetStatus = Static<typeof PodDisruptionBudgetStatusSchema>;

export const PodDisruptionBudgetSchema = KindSchema("PodDisruptionBudget", {
  spec: Opt(PodDisruptionBudgetSpecSchema),
  status: Opt(PodDisruptionBudgetStatusSchema),
});
export interface PodDisruptionBudget extends KubeObject, KindBody<typeof PodDisruptionBudgetSchema> {}

/** policy/v1 Eviction: the body of a pods/eviction create (deletes the pod if budgets allow). */
export const EvictionSchema = KindSchema("Eviction", { deleteOptions: Opt(DeleteOptionsSchema) });
