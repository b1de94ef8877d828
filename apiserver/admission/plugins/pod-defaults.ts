// DefaultTolerationSeconds (upstream plugin/pkg/admission/defaulttolerationseconds): pods
// tolerate a not-ready or unreachable node for 300 s. Also createdPod, which the plugins that
// fill in a new pod share (Priority is priority.ts, ServiceAccount service-account.ts).

import type { Pod, Toleration } from "#pkg/api/types/core.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";

export const DEFAULT_TOLERATION_SECONDS = "DefaultTolerationSeconds";

/** The pod of a pod create (main resource only), or undefined. */
export function createdPod(a: Attributes): Pod | undefined {
  if (a.operation !== "CREATE" || a.subresource !== "" || a.resource.group !== "" || a.resource.resource !== "pods")
    return undefined;
  const pod = a.object as Pod | undefined;
  return pod?.spec && typeof pod.spec === "object" ? pod : undefined;
}

const createOnly = (op: Operation) => op === "CREATE";

/** Upstream's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
const DEFAULT_TOLERATIONS: readonly Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
];

export function newDefaultTolerationSeconds(): AdmissionPlugin {
  return {
    name: DEFAULT_TOLERATION_SECONDS,
    handles: createOnly,
    async admit(a) {
      const spec = createdPod(a)?.spec;
      if (!spec) return;
      const tolerations = spec.tolerations ?? [];
      for (const t of DEFAULT_TOLERATIONS) {
        // A toleration of the taint's key (or a wildcard) for NoExecute already says how long.
        const has = tolerations.some(
          (x) => (x.key === t.key || (!x.key && x.operator === "Exists")) && (!x.effect || x.effect === "NoExecute"),
        );
        if (!has) tolerations.push({ ...t });
      }
      spec.tolerations = tolerations;
    },
  };
}
