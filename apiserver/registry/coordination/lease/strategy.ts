// coordination.k8s.io/v1 Lease (upstream pkg/registry/coordination/lease, printers.go printLease).

import { type FieldError, fieldInvalid } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Lease } from "#pkg/api/types/coordination.js";
import { age, ageCol, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

function validateLease(l: Lease): FieldError[] {
  const errs: FieldError[] = [];
  const s = l.spec;
  if (!s) return errs;
  if (s.leaseDurationSeconds !== undefined && s.leaseDurationSeconds <= 0) {
    errs.push(fieldInvalid("spec.leaseDurationSeconds", s.leaseDurationSeconds, "must be greater than 0"));
  }
  if (s.leaseTransitions !== undefined && s.leaseTransitions < 0) {
    errs.push(fieldInvalid("spec.leaseTransitions", s.leaseTransitions, "must be greater than or equal to 0"));
  }
  for (const f of ["acquireTime", "renewTime"] as const) {
    const v = s[f];
    if (v !== undefined && v !== null && Number.isNaN(Date.parse(v))) {
      errs.push(fieldInvalid(`spec.${f}`, v, "must be an RFC 3339 time"));
    }
  }
  return errs;
}

export function leaseStrategy(r: ResourceInfo): Strategy<Lease> {
  return makeStrategy<Lease>(
    r,
    {
      allowCreateOnUpdate: true,
      validate: validateLease,
      validateUpdate: validateLease,
      columns: [nameCol(), col("Holder", "string", "Name of the Leader"), ageCol()],
      row: (l, now) => [l.metadata.name ?? "", l.spec?.holderIdentity ?? "<none>", age(l, now)],
    },
    { hasStatus: false },
  );
}
