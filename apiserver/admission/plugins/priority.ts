// The Priority admission plugin (upstream plugin/pkg/admission/priority):
// - a new pod's spec.priorityClassName is resolved to spec.priority and spec.preemptionPolicy;
//   a pod naming no class gets the globalDefault class's (and its name), else priority 0 and
//   PreemptLowerPriority; an unknown class is refused, and so is a priority (or preemption
//   policy) the pod set itself that differs from the class's;
// - a pod update that drops spec.priority or spec.preemptionPolicy keeps the stored ones;
// - a PriorityClass may be marked globalDefault only while no other class is.

import { PODS, PRIORITYCLASSES } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import { PREEMPT_LOWER_PRIORITY, type PriorityClass } from "#pkg/api/types/scheduling.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { admissionForbidden } from "../errors.js";

export const PRIORITY = "Priority";

const isMain = (a: Attributes, r: { group: string; resource: string }) =>
  a.subresource === "" && a.resource.group === r.group && a.resource.resource === r.resource;

/**
 * upstream getDefaultPriorityClass: the globalDefault class; when a race left several, the one
 * with the lowest value.
 */
export function defaultPriorityClass(classes: readonly PriorityClass[]): PriorityClass | undefined {
  let def: PriorityClass | undefined;
  for (const pc of classes) {
    if (pc.globalDefault && (def === undefined || (def.value ?? 0) > (pc.value ?? 0))) def = pc;
  }
  return def;
}

export function newPriorityAdmission(ctx: AdmissionContext): AdmissionPlugin {
  const classes = async () => (await ctx.current(PRIORITYCLASSES, "")) as PriorityClass[];

  async function admitPod(a: Attributes): Promise<void> {
    const pod = a.object as Pod | undefined;
    if (!pod?.spec || typeof pod.spec !== "object") return;
    const spec = pod.spec;
    if (a.operation === "UPDATE") {
      // Validation forbids changing them; a client that left them out keeps what is stored.
      const old = (a.oldObject as Pod | undefined)?.spec;
      if (spec.priority === undefined && old?.priority !== undefined) spec.priority = old.priority;
      if (spec.preemptionPolicy === undefined && old?.preemptionPolicy !== undefined)
        spec.preemptionPolicy = old.preemptionPolicy;
      return;
    }
    if (a.operation !== "CREATE") return;
    let priority = 0;
    let preemptionPolicy: string | undefined = PREEMPT_LOWER_PRIORITY;
    if (!spec.priorityClassName) {
      const def = defaultPriorityClass(await classes());
      if (def) {
        spec.priorityClassName = def.metadata.name ?? "";
        priority = def.value ?? 0;
        preemptionPolicy = def.preemptionPolicy;
      }
    } else {
      const name = spec.priorityClassName;
      const pc = (await classes()).find((c) => c.metadata.name === name);
      if (!pc) throw admissionForbidden(a, `no PriorityClass with name ${name} was found`);
      priority = pc.value ?? 0;
      preemptionPolicy = pc.preemptionPolicy;
    }
    if (spec.priority !== undefined && spec.priority !== priority)
      throw admissionForbidden(
        a,
        `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
      );
    spec.priority = priority;
    if (preemptionPolicy !== undefined) {
      if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== preemptionPolicy)
        throw admissionForbidden(
          a,
          `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${preemptionPolicy} from the given PriorityClass name`,
        );
      spec.preemptionPolicy = preemptionPolicy;
    }
  }

  async function validatePriorityClass(a: Attributes): Promise<void> {
    const pc = a.object as PriorityClass | undefined;
    if (!pc?.globalDefault) return;
    const def = defaultPriorityClass(await classes());
    if (!def) return;
    // A second default created, or another class marked default while one is.
    if (a.operation === "CREATE" || def.metadata.name !== pc.metadata.name)
      throw admissionForbidden(
        a,
        `PriorityClass ${def.metadata.name} is already marked as default. Only one default can exist`,
      );
  }

  return {
    name: PRIORITY,
    handles: (op: Operation) => op === "CREATE" || op === "UPDATE" || op === "DELETE",
    async admit(a) {
      if (isMain(a, PODS)) await admitPod(a);
    },
    async validate(a) {
      if (isMain(a, PRIORITYCLASSES) && (a.operation === "CREATE" || a.operation === "UPDATE"))
        await validatePriorityClass(a);
    },
  };
}
