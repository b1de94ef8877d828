// apps/v1 StatefulSet (upstream pkg/registry/apps/statefulset/strategy.go, pkg/apis/apps/validation, printers.go).

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { StatefulSet } from "#pkg/api/types/apps.js";
import { dns1123LabelErrors, dns1123SubdomainErrors } from "#pkg/api/validation.js";
import {
  age,
  ageCol,
  clone,
  col,
  containerCells,
  containersCol,
  deepEqual,
  imagesCol,
  makeStrategy,
  nameCol,
} from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { defaultTemplate, intOrPercent, isZero, nonNegative, validateSelectorAndTemplate } from "../template.js";

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
    controllerKind: "StatefulSet",
    restartPolicies: ["Always"],
    extraVolumes: (spec.volumeClaimTemplates ?? []).map((t) => t.metadata?.name ?? "").filter(Boolean),
  });
  errs.push(...nonNegative(spec.replicas, "spec.replicas"));
  errs.push(...nonNegative(spec.minReadySeconds, "spec.minReadySeconds"));
  errs.push(...nonNegative(spec.ordinals?.start, "spec.ordinals.start"));
  const policy = spec.podManagementPolicy;
  if (policy === "") errs.push(fieldRequired("spec.podManagementPolicy"));
  else if (policy !== undefined && policy !== "OrderedReady" && policy !== "Parallel")
    errs.push(fieldInvalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"));
  const ut = spec.updateStrategy?.type;
  const ru = spec.updateStrategy?.rollingUpdate;
  if (ut === "") errs.push(fieldRequired("spec.updateStrategy"));
  else if (ut === "OnDelete") {
    if (ru)
      errs.push(
        fieldInvalid("spec.updateStrategy.rollingUpdate", ru, "only allowed for updateStrategy 'RollingUpdate'"),
      );
  } else if (ut === undefined || ut === "RollingUpdate") {
    errs.push(...nonNegative(ru?.partition, "spec.updateStrategy.rollingUpdate.partition"));
    if (ru?.maxUnavailable !== undefined) {
      const path = "spec.updateStrategy.rollingUpdate.maxUnavailable";
      const bad = intOrPercent(ru.maxUnavailable, path);
      errs.push(...bad);
      if (bad.length === 0 && isZero(ru.maxUnavailable))
        errs.push(fieldInvalid(path, ru.maxUnavailable, "must be greater than 0"));
    }
  } else {
    errs.push(fieldInvalid("spec.updateStrategy", spec.updateStrategy, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  for (const f of ["whenDeleted", "whenScaled"] as const) {
    const v = retention?.[f];
    if (v !== undefined && v !== "Retain" && v !== "Delete")
      errs.push(fieldNotSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, v, ["Retain", "Delete"]));
  }
  (spec.volumeClaimTemplates ?? []).forEach((t, i) => {
    const name = t.metadata?.name;
    const path = `spec.volumeClaimTemplates[${i}]`;
    if (!name) errs.push(fieldRequired(`${path}.metadata.name`, "name or generateName is required"));
    else for (const m of dns1123SubdomainErrors(name)) errs.push(fieldInvalid(`${path}.metadata.name`, name, m));
    if (!t.spec?.accessModes?.length)
      errs.push(fieldRequired(`${path}.spec.accessModes`, "at least 1 access mode is required"));
    if (t.spec?.resources?.requests?.storage === undefined && !t.spec?.dataSource && !t.spec?.dataSourceRef)
      errs.push(fieldRequired(`${path}.spec.resources[storage]`, ""));
  });
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

export function statefulSetStrategy(r: ResourceInfo): Strategy<StatefulSet> {
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
