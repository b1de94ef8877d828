// scheduling.k8s.io/v1 PriorityClass (upstream pkg/registry/scheduling/priorityclass,
// pkg/apis/scheduling/validation, pkg/apis/scheduling/v1/defaults.go, printers.go
// printPriorityClass). Cluster-scoped, no status. Names starting with "system-" are the system
// classes' only (as they are); user classes stop at 1e9; value and preemptionPolicy never change;
// the system classes cannot be deleted. Only-one-globalDefault is the Priority admission plugin's.

import type { FieldError } from "#pkg/api/errors.js";
import { fieldForbidden, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import { PRIORITYCLASSES, type ResourceInfo } from "#pkg/api/resources.js";
import {
  HIGHEST_USER_DEFINABLE_PRIORITY,
  PREEMPT_LOWER_PRIORITY,
  PREEMPT_NEVER,
  type PriorityClass,
  SYSTEM_PRIORITY_CLASS_PREFIX,
  systemPriorityClassError,
  systemPriorityClasses,
} from "#pkg/api/types/scheduling.js";
import { fieldImmutable } from "#pkg/api/validation.js";
import { forbiddenResource } from "../../../admission/errors.js";
import { age, ageCol, type Cell, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

const PREEMPTION_POLICIES = [PREEMPT_LOWER_PRIORITY, PREEMPT_NEVER];

/** upstream ValidatePreemptionPolicy (core validation), shared with pods. */
export function validatePreemptionPolicy(policy: string, path: string): FieldError[] {
  if (policy === PREEMPT_LOWER_PRIORITY || policy === PREEMPT_NEVER) return [];
  if (policy === "") return [fieldRequired(path)];
  return [fieldNotSupported(path, policy, PREEMPTION_POLICIES)];
}

/** upstream ValidatePriorityClass (metadata is the store's). */
export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs: FieldError[] = [];
  const name = pc.metadata.name ?? "";
  const value = pc.value ?? 0;
  if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const why = systemPriorityClassError(name, value, pc.globalDefault ?? false);
    if (why)
      errs.push(
        fieldForbidden(
          "metadata.name",
          `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${why}`,
        ),
      );
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(
      fieldForbidden("value", `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`),
    );
  }
  if (pc.preemptionPolicy !== undefined)
    errs.push(...validatePreemptionPolicy(pc.preemptionPolicy, "preemptionPolicy"));
  return errs;
}

/** upstream ValidatePriorityClassUpdate: value and preemptionPolicy are fixed. */
export function validatePriorityClassUpdate(pc: PriorityClass, old: PriorityClass): FieldError[] {
  const errs: FieldError[] = [];
  if ((pc.value ?? 0) !== (old.value ?? 0)) errs.push(fieldForbidden("value", "may not be changed in an update."));
  if (pc.preemptionPolicy !== old.preemptionPolicy)
    errs.push(fieldImmutable("preemptionPolicy", pc.preemptionPolicy ?? null));
  return errs;
}

/** upstream SetDefaults_PriorityClass; value is written even when 0 (no omitempty in Go). */
export function applyPriorityClassDefaults(pc: PriorityClass): void {
  pc.value ??= 0;
  pc.preemptionPolicy ??= PREEMPT_LOWER_PRIORITY;
}

export function priorityClassRow(pc: PriorityClass, now: Date): Cell[] {
  return [
    pc.metadata.name ?? "",
    pc.value ?? 0,
    pc.globalDefault ?? false,
    age(pc, now),
    pc.preemptionPolicy ?? PREEMPT_LOWER_PRIORITY,
  ];
}

const SYSTEM_NAMES = new Set(systemPriorityClasses().map((c) => c.metadata.name));

export function priorityClassStrategy(r: ResourceInfo): Strategy<PriorityClass> {
  return makeStrategy<PriorityClass>(
    r,
    {
      applyDefaults: applyPriorityClassDefaults,
      prepareForCreate(pc) {
        pc.metadata.generation = 1;
      },
      prepareForUpdate(pc, old) {
        if (old.metadata.generation !== undefined) pc.metadata.generation = old.metadata.generation;
      },
      validate: validatePriorityClass,
      // upstream validates an update by ValidatePriorityClassUpdate alone.
      validateUpdate: validatePriorityClassUpdate,
      // upstream's priorityclass REST Delete.
      beforeDelete(name) {
        if (SYSTEM_NAMES.has(name))
          throw forbiddenResource(PRIORITYCLASSES, name, "this is a system priority class and cannot be deleted");
      },
      columns: [
        nameCol(),
        col(
          "Value",
          "integer",
          "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.",
        ),
        col(
          "Global-Default",
          "boolean",
          "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.",
        ),
        ageCol(),
        col(
          "PreemptionPolicy",
          "string",
          "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
        ),
      ],
      row: priorityClassRow,
    },
    { hasStatus: false },
  );
}
