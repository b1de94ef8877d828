// rbac.authorization.k8s.io/v1 Role (upstream pkg/registry/rbac/role/strategy.go): rules, no
// status. Escalation prevention is the REST storage's (apiserver/registry/rbac/policybased.ts).

import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Role } from "#pkg/api/types/rbac.js";
import { makeStrategy } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { minimalNameRequirements, roleColumns, roleRow, validateRules } from "../validation.js";

export function roleStrategy(r: ResourceInfo): Strategy<Role> {
  return makeStrategy<Role>(
    r,
    {
      nameValidator: minimalNameRequirements,
      validate: (role) => validateRules(role.rules, true),
      validateUpdate: (role) => validateRules(role.rules, true),
      columns: roleColumns,
      row: (role) => roleRow(role.metadata),
    },
    { hasStatus: false },
  );
}
