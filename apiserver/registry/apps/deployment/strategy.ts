// apps/v1 Deployment (upstream pkg/registry/apps/deployment/strategy.go, pkg/apis/apps/validation, printers.go).

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Deployment } from "#pkg/api/types/apps.js";
import {
  age,
  ageCol,
  bumpGenerationIf,
  clone,
  col,
  containerCells,
  containersCol,
  deepEqual,
  imagesCol,
  makeStrategy,
  nameCol,
  selectorString,
} from "../../common.js";
import type { Strategy } from "../../strategy.js";
import {
  defaultTemplate,
  intOrPercent,
  isZero,
  nonNegative,
  selectorImmutable,
  validateSelectorAndTemplate,
} from "../template.js";

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
    // Unlike maxUnavailable, a surge above 100% is allowed (upstream validates only maxUnavailable's bound).
    errs.push(...intOrPercent(ru.maxSurge, "spec.strategy.rollingUpdate.maxSurge", { allowOver100: true }));
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

export const READY_REPLICAS_DESC =
  "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.";

export function deploymentStrategy(r: ResourceInfo): Strategy<Deployment> {
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
