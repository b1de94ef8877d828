// Evaluating a pod against a level and version (upstream policy/registry.go and checks.go's
// aggregation): privileged allows everything; baseline runs the baseline checks; restricted runs
// the baseline checks a restricted check does not supersede, then the restricted checks. Results
// keep that order, which is the order of the reasons in upstream's messages.

import type { ObjectMeta } from "#pkg/api/meta.js";
import type { PodSpec } from "#pkg/api/types/core.js";
import type { LevelVersion } from "./api.js";
import { CHECKS, type Check, type CheckPodFn, type CheckResult } from "./checks.js";

/** The newest minimum version of any check: "latest" and anything newer evaluate as it. */
export const MAX_POLICY_MINOR = Math.max(...CHECKS.flatMap((c) => c.versions.map((v) => v.minimumMinor)));

function versionFor(check: Check, minor: number): CheckPodFn | undefined {
  let fn: CheckPodFn | undefined;
  for (const v of check.versions) if (v.minimumMinor <= minor) fn = v.checkPod;
  return fn;
}

/** The checks that apply to lv, in reporting order. */
export function checksFor(lv: LevelVersion): CheckPodFn[] {
  if (lv.level === "privileged") return [];
  const minor = lv.version.latest ? MAX_POLICY_MINOR : Math.min(lv.version.minor, MAX_POLICY_MINOR);
  const pick = (pred: (c: Check) => boolean) =>
    CHECKS.filter(pred)
      .map((c) => versionFor(c, minor))
      .filter((f): f is CheckPodFn => f !== undefined);
  const baseline = pick((c) => c.level === "baseline" && !c.overlap);
  if (lv.level === "baseline") return [...baseline, ...pick((c) => c.level === "baseline" && c.overlap === true)];
  return [...baseline, ...pick((c) => c.level === "restricted")];
}

export function evaluatePod(lv: LevelVersion, meta: ObjectMeta | undefined, spec: PodSpec): CheckResult[] {
  return checksFor(lv).map((check) => check(meta, spec));
}

/** upstream AggregateCheckResult. */
export interface AggregateResult {
  allowed: boolean;
  reasons: string[];
  details: string[];
}

export function aggregate(results: readonly CheckResult[]): AggregateResult {
  const reasons: string[] = [];
  const details: string[] = [];
  for (const r of results) {
    if (r.allowed) continue;
    reasons.push(r.forbiddenReason || "unknown forbidden reason");
    details.push(r.forbiddenDetail ?? "");
  }
  return { allowed: reasons.length === 0, reasons, details };
}

/** "host ports, privileged" (namespace-wide warnings). */
export function forbiddenReason(a: AggregateResult): string {
  return a.reasons.join(", ");
}

/** "hostPort (container \"c\" uses hostPort 80), privileged (...)" (one object). */
export function forbiddenDetail(a: AggregateResult): string {
  return a.reasons.map((r, i) => (a.details[i] ? `${r} (${a.details[i]})` : r)).join(", ");
}

export function evaluate(lv: LevelVersion, meta: ObjectMeta | undefined, spec: PodSpec): AggregateResult {
  return aggregate(evaluatePod(lv, meta, spec));
}
