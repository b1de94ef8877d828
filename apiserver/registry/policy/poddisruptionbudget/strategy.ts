// policy/v1 PodDisruptionBudget (upstream pkg/registry/policy/poddisruptionbudget/strategy.go,
// pkg/apis/policy/validation, printers.go printPodDisruptionBudget). The spec may change after
// creation (generation moves with it, so the eviction subresource waits for the disruption
// controller to catch up); status is the controller's and the eviction subresource's.

import { type FieldError, fieldInvalid, fieldNotSupported } from "#pkg/api/errors.js";
import { intOrStringText } from "#pkg/api/intstr.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import {
  type PodDisruptionBudget,
  type PodDisruptionBudgetStatus,
  UNHEALTHY_POD_EVICTION_POLICIES,
} from "#pkg/api/types/policy.js";
import { validateConditions, validateNonNegative } from "#pkg/api/validation.js";
import { intOrPercent } from "../../apps/template.js";
import { age, ageCol, col, isObject, makeStrategy, nameCol } from "../../common.js";
import { validateLabelSelector } from "../../core/pod/podspec.js";
import type { Strategy } from "../../strategy.js";

const STATUS_COUNTERS = ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"] as const;

/** upstream ValidatePodDisruptionBudgetSpec. */
export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  const spec = pdb.spec;
  if (!spec) return [];
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(fieldInvalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"));
  }
  errs.push(...intOrPercent(spec.minAvailable, "spec.minAvailable"));
  errs.push(...intOrPercent(spec.maxUnavailable, "spec.maxUnavailable"));
  errs.push(...validateLabelSelector(spec.selector, "spec.selector"));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !(UNHEALTHY_POD_EVICTION_POLICIES as readonly string[]).includes(policy)) {
    errs.push(fieldNotSupported("spec.unhealthyPodEvictionPolicy", policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

/** upstream ValidatePodDisruptionBudgetStatusUpdate (policy/v1: the counters are never negative). */
export function validatePodDisruptionBudgetStatus(status: PodDisruptionBudgetStatus | undefined): FieldError[] {
  if (!status) return [];
  const errs = validateConditions(status.conditions, "status.conditions");
  for (const f of STATUS_COUNTERS) errs.push(...validateNonNegative(status[f], `status.${f}`));
  return errs;
}

export function podDisruptionBudgetStrategy(r: ResourceInfo): Strategy<PodDisruptionBudget> {
  return makeStrategy<PodDisruptionBudget>(
    r,
    {
      applyDefaults(pdb) {
        // Upstream's counters have no omitempty: a status always carries them, 0 included.
        // unhealthyPodEvictionPolicy has no default: unset behaves as IfHealthyBudget.
        if (!isObject(pdb.status)) return;
        const s = pdb.status;
        for (const f of STATUS_COUNTERS) s[f] ??= 0;
      },
      prepareForCreate(pdb) {
        pdb.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
      },
      validate: validatePodDisruptionBudget,
      validateUpdate: (pdb) => [...validatePodDisruptionBudget(pdb), ...validatePodDisruptionBudgetStatus(pdb.status)],
      columns: [
        nameCol(),
        col("Min Available", "string", "The minimum number of pods that must be available."),
        col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
        col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
        ageCol(),
      ],
      row: (pdb, now) => {
        const min = pdb.spec?.minAvailable;
        const max = pdb.spec?.maxUnavailable;
        return [
          pdb.metadata.name ?? "",
          min === undefined ? "N/A" : intOrStringText(min),
          max === undefined ? "N/A" : intOrStringText(max),
          pdb.status?.disruptionsAllowed ?? 0,
          age(pdb, now),
        ];
      },
    },
    { generation: true },
  );
}
