// apps/v1 ControllerRevision (upstream pkg/registry/apps/controllerrevision/strategy.go,
// pkg/apis/apps/validation ValidateControllerRevision[Update], printers.go printControllerRevision).
// A revision's data never changes once written; its revision number may (a controller rolling
// back to an old snapshot renumbers it as the newest).

import { type FieldError, fieldRequired } from "#pkg/api/errors.js";
import { type ResourceInfo, splitApiVersion } from "#pkg/api/resources.js";
import type { ControllerRevision } from "#pkg/api/types/apps.js";
import { fieldImmutable } from "#pkg/api/validation.js";
import { age, ageCol, col, deepEqual, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { nonNegative } from "../template.js";

function validateControllerRevision(cr: ControllerRevision): FieldError[] {
  const errs: FieldError[] = [];
  if (cr.data === undefined || cr.data === null) errs.push(fieldRequired("data", "data is mandatory"));
  errs.push(...nonNegative(cr.revision ?? 0, "revision"));
  return errs;
}

/** printControllerRevision's CONTROLLER cell: "<kind>.<group>/<name>" in lower case, or <none>. */
export function controllerOf(cr: ControllerRevision): string {
  const ref = cr.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) return "<none>";
  const { group } = splitApiVersion(ref.apiVersion);
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

export function controllerRevisionStrategy(r: ResourceInfo): Strategy<ControllerRevision> {
  return makeStrategy<ControllerRevision>(
    r,
    {
      validate: validateControllerRevision,
      validateUpdate: (cr, old) => [
        ...validateControllerRevision(cr),
        ...(deepEqual(cr.data, old.data) ? [] : [fieldImmutable("data", cr.data ?? null)]),
      ],
      columns: [
        nameCol(),
        col("Controller", "string", "Controller of the object"),
        col("Revision", "string", "Revision indicates the revision of the state represented by Data."),
        ageCol(),
      ],
      row: (cr, now) => [cr.metadata.name ?? "", controllerOf(cr), cr.revision ?? 0, age(cr, now)],
    },
    { hasStatus: false },
  );
}
