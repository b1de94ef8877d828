// rbac.authorization.k8s.io/v1 ClusterRoleBinding (upstream
// pkg/registry/rbac/clusterrolebinding/strategy.go): a ClusterRole granted cluster-wide.

import type { ResourceInfo } from "#pkg/api/resources.js";
import type { ClusterRoleBinding } from "#pkg/api/types/rbac.js";
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

export function clusterRoleBindingStrategy(r: ResourceInfo): Strategy<ClusterRoleBinding> {
  return makeStrategy<ClusterRoleBinding>(
    r,
    {
      nameValidator: minimalNameRequirements,
      applyDefaults: defaultBinding,
      validate: (b) => validateBinding(b, false),
      validateUpdate: (b, old) => validateBindingUpdate(b, old, false),
      columns: bindingColumns("clusterRoleBinding"),
      row: bindingRow,
    },
    { hasStatus: false },
  );
}
