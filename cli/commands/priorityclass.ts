// kubeling create priorityclass: the object kubectl's generator builds
// (staging/src/k8s.io/kubectl/pkg/cmd/create/create_priorityclass.go): --value (int32, default
// 0), --global-default, --description, --preemption-policy (default PreemptLowerPriority).

import { PRIORITYCLASSES } from "#pkg/api/resources.js";
import type { PriorityClass } from "#pkg/api/types/scheduling.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { createAndReport, parseDryRun } from "./dryrun.js";

export interface CreatePriorityClassOptions {
  value?: string;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: string;
  dryRun?: string | boolean;
}

/** pflag's Int32 parse of --value, with its message for a bad one. */
function int32Flag(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = /^[+-]?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < -(2 ** 31) || n > 2 ** 31 - 1) {
    const why = Number.isNaN(n) ? "invalid syntax" : "value out of range";
    throw new CliError(`error: invalid argument "${v}" for "--value" flag: strconv.ParseInt: parsing "${v}": ${why}`);
  }
  return n;
}

export function priorityClassObject(name: string, o: CreatePriorityClassOptions): PriorityClass {
  const pc: PriorityClass = {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name },
    value: int32Flag(o.value),
  };
  if (o.globalDefault) pc.globalDefault = true;
  if (o.description) pc.description = o.description;
  pc.preemptionPolicy = o.preemptionPolicy ?? "PreemptLowerPriority";
  return pc;
}

export async function runCreatePriorityClass(
  ctx: CliContext,
  name: string,
  o: CreatePriorityClassOptions,
): Promise<number> {
  await createAndReport(ctx, PRIORITYCLASSES, undefined, priorityClassObject(name, o), {
    fieldManager: "kubectl-create",
    dryRun: parseDryRun(o.dryRun),
  });
  return 0;
}
