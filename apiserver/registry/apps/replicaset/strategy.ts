// apps/v1 ReplicaSet (upstream pkg/registry/apps/replicaset/strategy.go, pkg/apis/apps/validation, printers.go).

import { type FieldError, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { ReplicaSet } from "#pkg/api/types/apps.js";
import {
  age,
  ageCol,
  col,
  containerCells,
  containersCol,
  imagesCol,
  makeStrategy,
  nameCol,
  selectorString,
} from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { READY_REPLICAS_DESC } from "../deployment/strategy.js";
import { defaultTemplate, nonNegative, selectorImmutable, validateSelectorAndTemplate } from "../template.js";

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

export function replicaSetStrategy(r: ResourceInfo): Strategy<ReplicaSet> {
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
