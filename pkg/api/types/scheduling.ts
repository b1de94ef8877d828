// scheduling.k8s.io/v1 PriorityClass (upstream k8s.io/api/scheduling/v1 types.go): a cluster-wide
// name for a pod priority. The Priority admission plugin turns a pod's spec.priorityClassName
// into spec.priority and spec.preemptionPolicy; the scheduler's queue orders by that priority.

import type { KubeObject } from "../meta.js";
import { Bool, Int, Opt, Str } from "../schema/helpers.js";
import { type KindBody, KindSchema } from "./meta.js";

/** upstream scheduling.SystemPriorityClassPrefix: names reserved for the system classes. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = "system-";
/** upstream scheduling.HighestUserDefinablePriority. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** upstream scheduling.SystemCriticalPriority. */
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
export const SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical";
export const SYSTEM_NODE_CRITICAL = "system-node-critical";

/** core/v1 PreemptionPolicy values. */
export const PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority";
export const PREEMPT_NEVER = "Never";

export const PriorityClassSchema = KindSchema("PriorityClass", {
  value: Int(
    "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.",
  ),
  globalDefault: Opt(
    Bool(
      "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.",
    ),
  ),
  description: Opt(
    Str(
      "description is an arbitrary string that usually provides guidelines on when this priority class should be used.",
    ),
  ),
  preemptionPolicy: Opt(
    Str(
      "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
    ),
  ),
});
export interface PriorityClass extends KubeObject, KindBody<typeof PriorityClassSchema> {}

/** upstream schedulingapiv1.SystemPriorityClasses: created by the API server at start. */
export function systemPriorityClasses(): PriorityClass[] {
  const pc = (name: string, value: number, description: string): PriorityClass => ({
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name },
    value,
    description,
  });
  return [
    pc(
      SYSTEM_NODE_CRITICAL,
      SYSTEM_CRITICAL_PRIORITY + 1000,
      "Used for system critical pods that must not be moved from their current node.",
    ),
    pc(
      SYSTEM_CLUSTER_CRITICAL,
      SYSTEM_CRITICAL_PRIORITY,
      "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
  ];
}

/**
 * upstream IsKnownSystemPriorityClass: undefined when name, value and globalDefault are those
 * of a system class, else why not.
 */
export function systemPriorityClassError(name: string, value: number, globalDefault: boolean): string | undefined {
  const spc = systemPriorityClasses().find((c) => c.metadata.name === name);
  if (!spc) return `${name} is not a known system priority class`;
  if (spc.value !== value) return `value of ${name} PriorityClass must be ${spc.value}`;
  if ((spc.globalDefault ?? false) !== globalDefault)
    return `globalDefault of ${name} PriorityClass must be ${spc.globalDefault ?? false}`;
  return undefined;
}
