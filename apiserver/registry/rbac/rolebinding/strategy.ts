// rbac.authorization.k8s.io/v1 RoleBinding (upstream pkg/registry/rbac/rolebinding/strategy.go):
// a Role or ClusterRole granted to subjects inside one namespace; the roleRef never changes.

import type { ResourceInfo } from "#pkg/api/resources.js";
import type { RoleBinding } from "#pkg/api/types/rbac.js";
import { makeStrategy } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import {
  bindingColumns,
  bindingRow,
  defaultBinding,
  minimalNameRequirements,
  validateBinding,
  validateBindingUpdate,
} from "../validation.js";

export function roleBindingStrategy(r: ResourceInfo): Strategy<RoleBinding> {
  return makeStrategy<RoleBinding>(
    r,
    {
      nameValidator: minimalNameRequirements,
      applyDefaults: defaultBinding,
      validate: (b) => validateBinding(b, true),
      validateUpdate: (b, old) => validateBindingUpdate(b, old, true),
      columns: bindingColumns("roleBinding"),
      row: bindingRow,
    },
    { hasStatus: false },
  );
}
