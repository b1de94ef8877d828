// meta/v1 pieces that kinds embed: LabelSelector, Condition, ObjectMeta's schema (for OpenAPI).
// The TS ObjectMeta itself lives in pkg/api/meta.ts.

import {
  Bool,
  Int,
  List,
  MapList,
  Obj,
  Opt,
  type Static,
  Str,
  StrMap,
  Time,
  type TSchema,
  Type,
} from "../schema/helpers.js";

export const LabelSelectorRequirementSchema = Obj({
  key: Str(),
  operator: Str("In, NotIn, Exists or DoesNotExist"),
  values: Opt(List(Str())),
});
export type LabelSelectorRequirement = Static<typeof LabelSelectorRequirementSchema>;

/** upstream `+structType=atomic`: server-side apply replaces a selector whole. */
export const LabelSelectorSchema = Obj(
  {
    matchLabels: Opt(StrMap()),
    matchExpressions: Opt(List(LabelSelectorRequirementSchema)),
  },
  { "x-kubernetes-map-type": "atomic" },
);
export type LabelSelector = Static<typeof LabelSelectorSchema>;

/** metav1.Condition (used by newer APIs; apps/batch/core use their own condition shapes). */
export const ConditionSchema = Obj({
  type: Str(),
  status: Str("True, False or Unknown"),
  observedGeneration: Opt(Int()),
  lastTransitionTime: Opt(Time()),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type Condition = Static<typeof ConditionSchema>;

export const OwnerReferenceSchema = Obj({
  apiVersion: Str(),
  kind: Str(),
  name: Str(),
  uid: Str(),
  controller: Opt(Bool()),
  blockOwnerDeletion: Opt(Bool()),
});

export const ManagedFieldsEntrySchema = Obj({
  manager: Opt(Str()),
  operation: Opt(Type.Unsafe<"Apply" | "Update">({ type: "string" })),
  apiVersion: Opt(Str()),
  time: Opt(Time()),
  fieldsType: Opt(Type.Unsafe<"FieldsV1">({ type: "string" })),
  fieldsV1: Opt(Type.Unsafe<Record<string, unknown>>({ type: "object", "x-kubernetes-preserve-unknown-fields": true })),
  subresource: Opt(Str()),
});

/** Schema of metadata (pkg/api/meta.ts ObjectMeta), for OpenAPI; unknownFields never looks inside metadata. */
export const ObjectMetaSchema = Obj({
  name: Opt(Str()),
  generateName: Opt(Str()),
  namespace: Opt(Str()),
  selfLink: Opt(Str("deprecated; never set by kubeling")),
  uid: Opt(Str()),
  resourceVersion: Opt(Str()),
  generation: Opt(Int()),
  creationTimestamp: Opt(Time()),
  deletionTimestamp: Opt(Time()),
  deletionGracePeriodSeconds: Opt(Int()),
  labels: Opt(StrMap()),
  annotations: Opt(StrMap()),
  ownerReferences: Opt(MapList(OwnerReferenceSchema, ["uid"])),
  finalizers: Opt(Type.Array(Str(), { "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" })),
  managedFields: Opt(List(ManagedFieldsEntrySchema)),
});

/** The top-level schema of a kind: TypeMeta + metadata + the kind's own fields. */
export function KindSchema<P extends Parameters<typeof Obj>[0]>(name: string, fields: P) {
  return Obj({ apiVersion: Opt(Str()), kind: Opt(Str()), metadata: Opt(ObjectMetaSchema), ...fields }, { $id: name });
}

/** A kind's own fields (spec, status, data...), derived from its schema; metadata comes from KubeObject. */
export type KindBody<T extends TSchema> = Omit<Static<T>, "metadata" | "apiVersion" | "kind">;

/** meta/v1 DeleteOptions as a body embeds it (policy/v1 Eviction's deleteOptions). */
export const DeleteOptionsSchema = Obj({
  apiVersion: Opt(Str()),
  kind: Opt(Str()),
  gracePeriodSeconds: Opt(Int()),
  preconditions: Opt(Obj({ uid: Opt(Str()), resourceVersion: Opt(Str()) })),
  orphanDependents: Opt(Bool()),
  propagationPolicy: Opt(Str("Orphan, Background or Foreground")),
  dryRun: Opt(List(Str())),
  ignoreStoreReadErrorWithClusterBreakingPotential: Opt(Bool()),
});
