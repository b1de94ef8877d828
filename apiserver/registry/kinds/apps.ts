// apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet (upstream pkg/registry/apps/*/strategy.go,
// pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation, printers.go).

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import { selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { ObjectMeta } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from "#pkg/api/types/apps.js";
import type { PodTemplateSpec } from "#pkg/api/types/core.js";
import type { LabelSelector } from "#pkg/api/types/meta.js";
import { dns1123LabelErrors, fieldImmutable, validateLabels, validateObjectMeta } from "#pkg/api/validation.js";
import type { Strategy } from "../strategy.js";
import {
  age,
  ageCol,
  bumpGenerationIf,
  clone,
  col,
  containerCells,
  containersCol,
  deepEqual,
  formatLabels,
  imagesCol,
  makeStrategy,
  nameCol,
  selectorString,
} from "./common.js";
import { defaultPodSpecAndCanonicalize } from "./pod.js";
import { validateLabelSelector, validatePodSpec } from "./podspec.js";

// ---------------------------------------------------------------- shared template rules

export function defaultTemplate(t: PodTemplateSpec | undefined): void {
  if (t && typeof t === "object") defaultPodSpecAndCanonicalize(t.spec);
}

function templateMetaErrors(meta: ObjectMeta | undefined, path: string): FieldError[] {
  if (!meta) return [];
  return [
    ...validateLabels(meta.labels, `${path}.labels`),
    ...validateObjectMeta({ ...meta, name: "x", namespace: undefined, generateName: undefined }, false, path).filter(
      (e) => !e.field.endsWith(".labels") && !e.field.endsWith(".name"),
    ),
  ];
}

/**
 * Selector required and non-empty, template labels matched by it, template valid,
 * restartPolicy one of allowed (apps: Always; jobs: OnFailure/Never).
 */
export function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  o: {
    kindName: string;
    restartPolicies: readonly string[];
    selectorRequired?: boolean;
    specPath?: string;
    extraVolumes?: readonly string[];
  },
): FieldError[] {
  const sp = o.specPath ?? "spec";
  const errs: FieldError[] = [];
  const emptySelector =
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
  if (o.selectorRequired !== false) {
    if (!selector) errs.push(fieldRequired(`${sp}.selector`));
    else if (emptySelector)
      errs.push(fieldInvalid(`${sp}.selector`, selector, `empty selector is invalid for ${o.kindName}`));
  }
  errs.push(...validateLabelSelector(selector, `${sp}.selector`));
  if (!template) {
    errs.push(fieldRequired(`${sp}.template`));
    return errs;
  }
  errs.push(...templateMetaErrors(template.metadata, `${sp}.template.metadata`));
  if (selector && !emptySelector) {
    try {
      if (!selectorFromLabelSelector(selector).matches(template.metadata?.labels ?? {})) {
        errs.push(
          fieldInvalid(
            `${sp}.template.metadata.labels`,
            template.metadata?.labels ?? {},
            "`selector` does not match template `labels`",
          ),
        );
      }
    } catch {
      // an invalid selector is already reported above
    }
  }
  errs.push(...validatePodSpec(template.spec, `${sp}.template.spec`, o.extraVolumes));
  const rp = template.spec?.restartPolicy;
  if (rp !== undefined && !o.restartPolicies.includes(rp)) {
    errs.push(fieldNotSupported(`${sp}.template.spec.restartPolicy`, rp, o.restartPolicies));
  }
  if (template.spec?.activeDeadlineSeconds !== undefined && o.restartPolicies.includes("Always")) {
    errs.push(
      fieldForbidden(
        `${sp}.template.spec.activeDeadlineSeconds`,
        "activeDeadlineSeconds in ReplicaSet is not Supported",
      ),
    );
  }
  return errs;
}

function nonNegative(v: unknown, path: string): FieldError[] {
  if (v === undefined) return [];
  return typeof v === "number" && Number.isInteger(v) && v >= 0
    ? []
    : [fieldInvalid(path, v, "must be greater than or equal to 0")];
}

/** IntOrString percent/int fields (maxSurge, maxUnavailable). */
function intOrPercent(v: number | string | undefined, path: string): FieldError[] {
  if (v === undefined) return [];
  if (typeof v === "number") return nonNegative(v, path);
  const m = /^([0-9]+)%$/.exec(v);
  if (!m)
    return [
      fieldInvalid(
        path,
        v,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ),
    ];
  if (Number(m[1]) > 100) return [fieldInvalid(path, v, "must not be greater than 100%")];
  return [];
}

const isZero = (v: number | string | undefined): boolean => v === undefined || v === 0 || v === "0%";

function selectorImmutable(
  n: LabelSelector | undefined,
  o: LabelSelector | undefined,
  path = "spec.selector",
): FieldError[] {
  return deepEqual(n, o) ? [] : [fieldImmutable(path, n ?? null)];
}

// ---------------------------------------------------------------- Deployment

export function defaultDeployment(d: Deployment): void {
  const spec = d.spec;
  if (!spec || typeof spec !== "object") return;
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= "RollingUpdate";
  if (spec.strategy.type === "RollingUpdate") {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
    spec.strategy.rollingUpdate.maxSurge ??= "25%";
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultTemplate(spec.template);
}

function validateDeployment(d: Deployment): FieldError[] {
  const spec = d.spec;
  if (!spec) return [fieldRequired("spec")];
  const errs = validateSelectorAndTemplate(spec.selector, spec.template, {
    kindName: "deployment",
    restartPolicies: ["Always"],
  });
  errs.push(...nonNegative(spec.replicas, "spec.replicas"));
  errs.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  errs.push(...nonNegative(spec.revisionHistoryLimit, "spec.revisionHistoryLimit"));
  const st = spec.strategy;
  if (st?.type !== undefined && !["Recreate", "RollingUpdate"].includes(st.type)) {
    errs.push(fieldNotSupported("spec.strategy.type", st.type, ["Recreate", "RollingUpdate"]));
  }
  if (st?.type === "Recreate" && st.rollingUpdate) {
    errs.push(fieldForbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
  }
  const ru = st?.rollingUpdate;
  if (ru && st?.type === "RollingUpdate") {
    errs.push(...intOrPercent(ru.maxUnavailable, "spec.strategy.rollingUpdate.maxUnavailable"));
    errs.push(...intOrPercent(ru.maxSurge, "spec.strategy.rollingUpdate.maxSurge"));
    if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      errs.push(
        fieldInvalid(
          "spec.strategy.rollingUpdate.maxUnavailable",
          ru.maxUnavailable ?? 0,
          "may not be 0 when `maxSurge` is 0",
        ),
      );
    }
  }
  if (spec.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, "spec.progressDeadlineSeconds"));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(
        fieldInvalid(
          "spec.progressDeadlineSeconds",
          spec.progressDeadlineSeconds,
          "must be greater than minReadySeconds",
        ),
      );
    }
  }
  return errs;
}

const READY_REPLICAS_DESC = "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.";

function deploymentStrategy(r: ResourceInfo): Strategy<Deployment> {
  return makeStrategy<Deployment>(
    r,
    {
      applyDefaults: defaultDeployment,
      prepareForUpdate(d, old) {
        // Annotations are copied onto replica sets, so they bump the generation too.
        const changed = !deepEqual(d.spec, old.spec) || !deepEqual(d.metadata.annotations, old.metadata.annotations);
        bumpGenerationIf(d, old, changed);
      },
      prepareForStatusUpdate(d, old) {
        if (old.metadata.labels) d.metadata.labels = clone(old.metadata.labels);
        else delete d.metadata.labels;
      },
      validate: validateDeployment,
      validateUpdate: (d, old) => [
        ...validateDeployment(d),
        ...selectorImmutable(d.spec?.selector, old.spec?.selector),
      ],
      columns: [
        nameCol(),
        col("Ready", "string", "Number of the pod with ready state"),
        col(
          "Up-to-date",
          "integer",
          "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
        ),
        col(
          "Available",
          "integer",
          "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
        ),
        ageCol(),
        containersCol(),
        imagesCol(),
        col(
          "Selector",
          "string",
          "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
          1,
        ),
      ],
      row: (d, now) => {
        const [names, images] = containerCells(d.spec?.template?.spec?.containers);
        const st = d.status ?? {};
        return [
          d.metadata.name ?? "",
          `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
          st.updatedReplicas ?? 0,
          st.availableReplicas ?? 0,
          age(d, now),
          names,
          images,
          selectorString(d.spec?.selector),
        ];
      },
    },
    { generation: true },
  );
}

// ---------------------------------------------------------------- ReplicaSet

function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const spec = rs.spec;
  if (!spec) return [fieldRequired("spec")];
  const errs = validateSelectorAndTemplate(spec.selector, spec.template, {
    kindName: "replicaset",
    restartPolicies: ["Always"],
  });
  errs.push(...nonNegative(spec.replicas, "spec.replicas"));
  errs.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  return errs;
}

function replicaSetStrategy(r: ResourceInfo): Strategy<ReplicaSet> {
  return makeStrategy<ReplicaSet>(
    r,
    {
      applyDefaults(rs) {
        if (!rs.spec || typeof rs.spec !== "object") return;
        rs.spec.replicas ??= 1;
        defaultTemplate(rs.spec.template);
      },
      prepareForCreate(rs) {
        rs.status = { replicas: 0 };
      },
      validate: validateReplicaSet,
      validateUpdate: (rs, old) => [
        ...validateReplicaSet(rs),
        ...selectorImmutable(rs.spec?.selector, old.spec?.selector),
      ],
      selectableFields: (rs) => ({ "status.replicas": String(rs.status?.replicas ?? 0) }),
      columns: [
        nameCol(),
        col("Desired", "integer", "Replicas is the number of desired pods."),
        col("Current", "integer", "Replicas is the most recently observed number of non-terminating pods."),
        col("Ready", "integer", READY_REPLICAS_DESC),
        ageCol(),
        containersCol(),
        imagesCol(),
        col("Selector", "string", "Selector is a label query over pods that should match the replica count.", 1),
      ],
      row: (rs, now) => {
        const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
        return [
          rs.metadata.name ?? "",
          rs.spec?.replicas ?? 0,
          rs.status?.replicas ?? 0,
          rs.status?.readyReplicas ?? 0,
          age(rs, now),
          names,
          images,
          selectorString(rs.spec?.selector),
        ];
      },
    },
    { generation: true },
  );
}

// ---------------------------------------------------------------- StatefulSet

function defaultStatefulSet(s: StatefulSet): void {
  const spec = s.spec;
  if (!spec || typeof spec !== "object") return;
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= "OrderedReady";
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= "RollingUpdate";
  if (spec.updateStrategy.type === "RollingUpdate") {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.partition ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  spec.persistentVolumeClaimRetentionPolicy ??= {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= "Retain";
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= "Retain";
  defaultTemplate(spec.template);
}

function validateStatefulSet(s: StatefulSet): FieldError[] {
  const spec = s.spec;
  if (!spec) return [fieldRequired("spec")];
  const errs = validateSelectorAndTemplate(spec.selector, spec.template, {
    kindName: "statefulset",
    restartPolicies: ["Always"],
    extraVolumes: (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? "").filter(Boolean),
  });
  errs.push(...nonNegative(spec.replicas, "spec.replicas"));
  errs.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  if (spec.podManagementPolicy !== undefined && !["OrderedReady", "Parallel"].includes(spec.podManagementPolicy)) {
    errs.push(fieldNotSupported("spec.podManagementPolicy", spec.podManagementPolicy, ["OrderedReady", "Parallel"]));
  }
  const ut = spec.updateStrategy?.type;
  if (ut !== undefined && !["RollingUpdate", "OnDelete"].includes(ut)) {
    errs.push(fieldNotSupported("spec.updateStrategy.type", ut, ["OnDelete", "RollingUpdate"]));
  }
  errs.push(
    ...nonNegative(spec.updateStrategy?.rollingUpdate?.partition, "spec.updateStrategy.rollingUpdate.partition"),
  );
  if (spec.serviceName) {
    for (const m of dns1123LabelErrors(spec.serviceName))
      errs.push(fieldInvalid("spec.serviceName", spec.serviceName, m));
  }
  return errs;
}

function validateStatefulSetUpdate(s: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateStatefulSet(s);
  const strip = (x: StatefulSet) => {
    const c = clone(x.spec ?? {}) as Record<string, unknown>;
    for (const f of [
      "replicas",
      "ordinals",
      "template",
      "updateStrategy",
      "persistentVolumeClaimRetentionPolicy",
      "minReadySeconds",
    ]) {
      delete c[f];
    }
    return c;
  };
  if (!deepEqual(strip(s), strip(old))) {
    errs.push(
      fieldForbidden(
        "spec",
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

function statefulSetStrategy(r: ResourceInfo): Strategy<StatefulSet> {
  return makeStrategy<StatefulSet>(
    r,
    {
      applyDefaults: defaultStatefulSet,
      prepareForCreate(s) {
        s.status = { replicas: 0 };
      },
      validate: validateStatefulSet,
      validateUpdate: validateStatefulSetUpdate,
      columns: [
        nameCol(),
        col("Ready", "string", "Number of the pod with ready state"),
        ageCol(),
        containersCol(),
        imagesCol(),
      ],
      row: (s, now) => {
        const [names, images] = containerCells(s.spec?.template?.spec?.containers);
        return [
          s.metadata.name ?? "",
          `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}`,
          age(s, now),
          names,
          images,
        ];
      },
    },
    { generation: true },
  );
}

// ---------------------------------------------------------------- DaemonSet

function defaultDaemonSet(ds: DaemonSet): void {
  const spec = ds.spec;
  if (!spec || typeof spec !== "object") return;
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= "RollingUpdate";
  if (spec.updateStrategy.type === "RollingUpdate") {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultTemplate(spec.template);
}

function validateDaemonSet(ds: DaemonSet): FieldError[] {
  const spec = ds.spec;
  if (!spec) return [fieldRequired("spec")];
  const errs = validateSelectorAndTemplate(spec.selector, spec.template, {
    kindName: "daemonset",
    restartPolicies: ["Always"],
  });
  errs.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  const ut = spec.updateStrategy?.type;
  if (ut !== undefined && !["RollingUpdate", "OnDelete"].includes(ut)) {
    errs.push(fieldNotSupported("spec.updateStrategy.type", ut, ["OnDelete", "RollingUpdate"]));
  }
  const ru = spec.updateStrategy?.rollingUpdate;
  if (ru && ut === "RollingUpdate") {
    errs.push(...intOrPercent(ru.maxUnavailable, "spec.updateStrategy.rollingUpdate.maxUnavailable"));
    errs.push(...intOrPercent(ru.maxSurge, "spec.updateStrategy.rollingUpdate.maxSurge"));
    if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      errs.push(
        fieldInvalid(
          "spec.updateStrategy.rollingUpdate.maxUnavailable",
          ru.maxUnavailable ?? 0,
          "may not be 0 when `maxSurge` is 0",
        ),
      );
    }
  }
  return errs;
}

function daemonSetStrategy(r: ResourceInfo): Strategy<DaemonSet> {
  return makeStrategy<DaemonSet>(
    r,
    {
      applyDefaults: defaultDaemonSet,
      prepareForCreate(ds) {
        ds.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
      },
      validate: validateDaemonSet,
      validateUpdate: (ds, old) => [
        ...validateDaemonSet(ds),
        ...selectorImmutable(ds.spec?.selector, old.spec?.selector),
      ],
      columns: [
        nameCol(),
        col(
          "Desired",
          "integer",
          "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
        ),
        col(
          "Current",
          "integer",
          "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
        ),
        col(
          "Ready",
          "integer",
          "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
        ),
        col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
        col(
          "Available",
          "integer",
          "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
        ),
        col("Node Selector", "string", "NodeSelector is a selector which must be true for the pod to fit on a node."),
        ageCol(),
        containersCol(),
        imagesCol(),
        col("Selector", "string", "A label query over pods that are managed by the daemon set.", 1),
      ],
      row: (ds, now) => {
        const st = ds.status;
        const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
        return [
          ds.metadata.name ?? "",
          st?.desiredNumberScheduled ?? 0,
          st?.currentNumberScheduled ?? 0,
          st?.numberReady ?? 0,
          st?.updatedNumberScheduled ?? 0,
          st?.numberAvailable ?? 0,
          formatLabels(ds.spec?.template?.spec?.nodeSelector),
          age(ds, now),
          names,
          images,
          selectorString(ds.spec?.selector),
        ];
      },
    },
    { generation: true },
  );
}

export const APPS_STRATEGIES: Record<string, (r: ResourceInfo) => Strategy> = {
  deployments: deploymentStrategy as (r: ResourceInfo) => Strategy,
  replicasets: replicaSetStrategy as (r: ResourceInfo) => Strategy,
  statefulsets: statefulSetStrategy as (r: ResourceInfo) => Strategy,
  daemonsets: daemonSetStrategy as (r: ResourceInfo) => Strategy,
};
