// Validation and defaults shared by the four RBAC kinds (upstream pkg/apis/rbac/validation and
// pkg/apis/rbac/v1/defaults.go). RBAC names only have to be valid path segments, so that
// "system:kube-scheduler" is a name.

import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ObjectMeta } from "#pkg/api/meta.js";
import type { ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject } from "#pkg/api/types/rbac.js";
import { RBAC_GROUP } from "#pkg/api/types/rbac.js";
import { type NameValidator, nameIsDNSSubdomain, pathSegmentNameErrors } from "#pkg/api/validation.js";
import { age, ageCol, type Cell, col, deepEqual, NAME_DESC } from "../common.js";

/** upstream minimalNameRequirements: path.IsValidPathSegmentName (the store adds it to every name). */
export const minimalNameRequirements: NameValidator = () => [];

/** upstream validatePolicyRule. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if ((rule.verbs ?? []).length === 0)
    errs.push(fieldRequired(`${path}.verbs`, "verbs must contain at least one value"));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (namespaced) {
      errs.push(fieldInvalid(`${path}.nonResourceURLs`, urls, "namespaced rules cannot apply to non-resource URLs"));
    }
    if (
      (rule.apiGroups ?? []).length > 0 ||
      (rule.resources ?? []).length > 0 ||
      (rule.resourceNames ?? []).length > 0
    ) {
      errs.push(
        fieldInvalid(
          `${path}.nonResourceURLs`,
          urls,
          "rules cannot apply to both regular resources and non-resource URLs",
        ),
      );
    }
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0) {
    errs.push(fieldRequired(`${path}.apiGroups`, "resource rules must supply at least one api group"));
  }
  if ((rule.resources ?? []).length === 0) {
    errs.push(fieldRequired(`${path}.resources`, "resource rules must supply at least one resource"));
  }
  if ((rule.resourceNames ?? []).length > 0 && (rule.resources ?? []).length > 1) {
    errs.push(fieldRequired(`${path}.resourceNames`, "resource names cannot apply to multiple resources"));
  }
  return errs;
}

export function validateRules(rules: readonly PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

/** upstream SetDefaults_Subject: User and Group subjects are of the RBAC group. */
export function defaultSubjects(subjects: Subject[] | undefined): void {
  for (const s of subjects ?? []) {
    if (s.apiGroup) continue;
    if (s.kind === "User" || s.kind === "Group") s.apiGroup = RBAC_GROUP;
  }
}

/** upstream SetDefaults_RoleBinding / _ClusterRoleBinding. */
export function defaultBinding(b: RoleBinding | ClusterRoleBinding): void {
  if (b.roleRef && typeof b.roleRef === "object" && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  defaultSubjects(b.subjects);
}

function validateSubject(s: Subject, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(fieldRequired(`${path}.name`));
  switch (s.kind) {
    case "ServiceAccount":
      if (s.name) for (const m of nameIsDNSSubdomain(s.name, false)) errs.push(fieldInvalid(`${path}.name`, s.name, m));
      if (s.apiGroup) errs.push(fieldNotSupported(`${path}.apiGroup`, s.apiGroup, [""]));
      if (!namespaced && !s.namespace) errs.push(fieldRequired(`${path}.namespace`));
      break;
    case "User":
    case "Group":
      if (!s.name) {
        errs.push(
          fieldInvalid(`${path}.name`, s.name ?? "", `${s.kind === "User" ? "user" : "group"} name cannot be empty`),
        );
      }
      if (s.apiGroup !== RBAC_GROUP) errs.push(fieldNotSupported(`${path}.apiGroup`, s.apiGroup ?? "", [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldNotSupported(`${path}.kind`, s.kind, ["ServiceAccount", "User", "Group"]));
  }
  return errs;
}

/** upstream ValidateRoleBinding / ValidateClusterRoleBinding (metadata is the store's). */
export function validateBinding(b: RoleBinding | ClusterRoleBinding, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref: Partial<RoleRef> = b.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP) errs.push(fieldNotSupported("roleRef.apiGroup", ref.apiGroup ?? "", [RBAC_GROUP]));
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (!kinds.includes(ref.kind ?? "")) errs.push(fieldNotSupported("roleRef.kind", ref.kind ?? "", kinds));
  if (!ref.name) errs.push(fieldRequired("roleRef.name"));
  else for (const m of pathSegmentNameErrors(ref.name, false)) errs.push(fieldInvalid("roleRef.name", ref.name, m));
  (b.subjects ?? []).forEach((s, i) => {
    errs.push(...validateSubject(s, namespaced, `subjects[${i}]`));
  });
  return errs;
}

/** upstream ValidateRoleBindingUpdate: the roleRef is immutable. */
export function validateBindingUpdate(
  b: RoleBinding | ClusterRoleBinding,
  old: RoleBinding | ClusterRoleBinding,
  namespaced: boolean,
): FieldError[] {
  const errs = validateBinding(b, namespaced);
  if (!deepEqual(b.roleRef, old.roleRef)) errs.push(fieldInvalid("roleRef", b.roleRef, "cannot change roleRef"));
  return errs;
}

// Upstream prints roles with the default table convertor: Name and "Created At".
export const roleColumns = [
  col("Name", "string", NAME_DESC),
  col(
    "Created At",
    "date",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
  ),
];

export function roleRow(meta: ObjectMeta): Cell[] {
  const created = meta.creationTimestamp ? new Date(meta.creationTimestamp).toISOString().replace(".000Z", "Z") : "";
  return [meta.name ?? "", created];
}

/** printers.go's RoleBinding/ClusterRoleBinding columns; the subject columns are -o wide. */
export function bindingColumns(kind: "roleBinding" | "clusterRoleBinding") {
  return [
    col("Name", "string", NAME_DESC),
    col(
      "Role",
      "string",
      "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
    ),
    ageCol(),
    col("Users", "string", `Users in the ${kind}`, 1),
    col("Groups", "string", `Groups in the ${kind}`, 1),
    col("ServiceAccounts", "string", `ServiceAccounts in the ${kind}`, 1),
  ];
}

/** upstream rbac SubjectsStrings: users, groups, "namespace/name" service accounts. */
export function subjectsStrings(subjects: readonly Subject[] | undefined): [string[], string[], string[]] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === "ServiceAccount") sas.push(`${s.namespace ?? ""}/${s.name}`);
    else if (s.kind === "User") users.push(s.name);
    else if (s.kind === "Group") groups.push(s.name);
  }
  return [users, groups, sas];
}

export function bindingRow(b: RoleBinding | ClusterRoleBinding, now: Date): Cell[] {
  const [users, groups, sas] = subjectsStrings(b.subjects);
  return [
    b.metadata.name ?? "",
    `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`,
    age(b, now),
    users.join(", "),
    groups.join(", "),
    sas.join(", "),
  ];
}
