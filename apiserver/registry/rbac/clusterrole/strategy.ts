// rbac.authorization.k8s.io/v1 ClusterRole (upstream pkg/registry/rbac/clusterrole/strategy.go):
// cluster-wide rules, or an aggregationRule whose selected roles' rules the clusterrole-
// aggregation controller keeps in rules.

import { type FieldError, fieldInvalid, fieldRequired } from "#pkg/api/errors.js";
import { selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { ClusterRole } from "#pkg/api/types/rbac.js";
import { makeStrategy } from "../../common.js";
import { validateLabelSelector } from "../../core/pod/podspec.js";
import type { Strategy } from "../../strategy.js";
import { minimalNameRequirements, roleColumns, roleRow, validateRules } from "../validation.js";

/** upstream ValidateClusterRole (metadata is the store's). */
export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errs = validateRules(role.rules, false);
  const agg = role.aggregationRule;
  if (agg) {
    const selectors = agg.clusterRoleSelectors ?? [];
    if (selectors.length === 0) {
      errs.push(
        fieldRequired(
          "aggregationRule.clusterRoleSelectors",
          "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ),
      );
    }
    selectors.forEach((sel, i) => {
      const path = `aggregationRule.clusterRoleSelectors[${i}]`;
      errs.push(...validateLabelSelector(sel, path));
      try {
        selectorFromLabelSelector(sel);
      } catch {
        errs.push(fieldInvalid(path, sel, "invalid label selector."));
      }
    });
  }
  return errs;
}

export function clusterRoleStrategy(r: ResourceInfo): Strategy<ClusterRole> {
  return makeStrategy<ClusterRole>(
    r,
    {
      nameValidator: minimalNameRequirements,
      validate: validateClusterRole,
      validateUpdate: validateClusterRole,
      columns: roleColumns,
      row: (role) => roleRow(role.metadata),
    },
    { hasStatus: false },
  );
}
