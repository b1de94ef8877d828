// kubectl describe poddisruptionbudget (staging/src/k8s.io/kubectl/pkg/describe
// describePodDisruptionBudgetV1): the budget, its selector and the controller's counts.

import { intOrStringText } from "#pkg/api/intstr.js";
import type { PodDisruptionBudget } from "#pkg/api/types/policy.js";
import { formatSelector } from "./workloads.js";
import type { PrefixWriter } from "./writer.js";

export function describePodDisruptionBudget(w: PrefixWriter, pdb: PodDisruptionBudget): void {
  w.write(0, `Name:\t${pdb.metadata.name ?? ""}\n`);
  w.write(0, `Namespace:\t${pdb.metadata.namespace ?? ""}\n`);
  const spec = pdb.spec ?? {};
  if (spec.minAvailable !== undefined) w.write(0, `Min available:\t${intOrStringText(spec.minAvailable)}\n`);
  else if (spec.maxUnavailable !== undefined) w.write(0, `Max unavailable:\t${intOrStringText(spec.maxUnavailable)}\n`);
  w.write(0, `Selector:\t${spec.selector ? formatSelector(spec.selector) : "<unset>"}\n`);
  const s = pdb.status;
  w.write(0, "Status:\n");
  w.write(2, `Allowed disruptions:\t${s?.disruptionsAllowed ?? 0}\n`);
  w.write(2, `Current:\t${s?.currentHealthy ?? 0}\n`);
  w.write(2, `Desired:\t${s?.desiredHealthy ?? 0}\n`);
  w.write(2, `Total:\t${s?.expectedPods ?? 0}\n`);
}
