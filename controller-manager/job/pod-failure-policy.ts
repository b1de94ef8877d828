// spec.podFailurePolicy (upstream pkg/controller/job/pod_failure_policy.go): the first rule a
// failed pod matches, by a non-zero container exit code or a pod condition, decides whether the
// Job fails at once (FailJob, with upstream's message), the failure is not counted against
// backoffLimit (Ignore), or counted as usual (Count, or no rule matching).

import type { Job, PodFailurePolicy, PodFailurePolicyRule } from "#pkg/api/types/batch.js";
import type { ContainerStatus, Pod } from "#pkg/api/types/core.js";

export interface PolicyMatch {
  /** The FailJob message, when a FailJob rule matched. */
  failJobMessage?: string;
  /** Whether the failure counts against backoffLimit. */
  countFailed: boolean;
  /** The matching rule's action. */
  action?: string;
}

function exitCodeMatches(code: number, req: NonNullable<PodFailurePolicyRule["onExitCodes"]>): boolean {
  const inValues = req.values.includes(code);
  return req.operator === "In" ? inValues : req.operator === "NotIn" ? !inValues : false;
}

function matchingContainer(
  statuses: readonly ContainerStatus[] | undefined,
  req: NonNullable<PodFailurePolicyRule["onExitCodes"]>,
): { name: string; exitCode: number } | undefined {
  for (const s of statuses ?? []) {
    const t = s.state?.terminated;
    // Still terminating: no exit code to match.
    if (!t) continue;
    if (req.containerName !== undefined && req.containerName !== s.name) continue;
    if (t.exitCode !== 0 && exitCodeMatches(t.exitCode, req)) return { name: s.name, exitCode: t.exitCode };
  }
  return undefined;
}

/** upstream matchPodFailurePolicy for a failed pod. */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PolicyMatch {
  if (!policy) return { countFailed: true };
  const ns = pod.metadata.namespace ?? "";
  const name = pod.metadata.name ?? "";
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let what: string | undefined;
    if (rule.onExitCodes) {
      const c =
        matchingContainer(pod.status?.containerStatuses, rule.onExitCodes) ??
        matchingContainer(pod.status?.initContainerStatuses, rule.onExitCodes);
      if (c) {
        what = `Container ${c.name} for pod ${ns}/${name} failed with exit code ${c.exitCode} matching ${rule.action} rule at index ${index}`;
      }
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((pc) =>
        (rule.onPodConditions ?? []).some((pat) => pat.type === pc.type && (pat.status ?? "True") === pc.status),
      );
      if (cond) what = `Pod ${ns}/${name} has condition ${cond.type} matching ${rule.action} rule at index ${index}`;
    }
    if (what === undefined) continue;
    switch (rule.action) {
      case "Ignore":
        return { countFailed: false, action: "Ignore" };
      case "Count":
        return { countFailed: true, action: "Count" };
      case "FailJob":
        return { failJobMessage: what, countFailed: true, action: "FailJob" };
      case "FailIndex":
        return { countFailed: true, action: "FailIndex" };
      default:
        // An unknown action (not accepted by validation): try the next rule, as upstream's switch falls through.
        continue;
    }
  }
  return { countFailed: true };
}

/** The Job's podFailurePolicy, if any. */
export const podFailurePolicyOf = (job: Job): PodFailurePolicy | undefined => job.spec?.podFailurePolicy ?? undefined;
