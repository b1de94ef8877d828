// apps/v1 DaemonSet (upstream pkg/registry/apps/daemonset/strategy.go, pkg/apis/apps/validation, printers.go).

import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { DaemonSet } from "#pkg/api/types/apps.js";
import {
  age,
  ageCol,
  col,
  containerCells,
  containersCol,
  deepEqual,
  formatLabels,
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

/** Upstream v1's carrier of the internal spec.templateGeneration; pods get it as pod-template-generation. */
export const TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation";

function setTemplateGeneration(ds: DaemonSet, generation: number): void {
  ds.metadata.annotations = {
    ...(ds.metadata.annotations ?? {}),
    [TEMPLATE_GENERATION_ANNOTATION]: String(generation),
  };
}

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
    controllerKind: "DaemonSet",
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

export function daemonSetStrategy(r: ResourceInfo): Strategy<DaemonSet> {
  return makeStrategy<DaemonSet>(
    r,
    {
      applyDefaults: defaultDaemonSet,
      prepareForCreate(ds) {
        ds.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
        const generation = Number(ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? 0);
        if (!(generation >= 1)) setTemplateGeneration(ds, 1);
      },
      prepareForUpdate(ds, old) {
        // Upstream's spec.templateGeneration (kept in v1 as this annotation): +1 on every template change.
        const prev = Number(old.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? 0);
        const base = Number.isInteger(prev) && prev > 0 ? prev : 1;
        setTemplateGeneration(ds, deepEqual(ds.spec?.template, old.spec?.template) ? base : base + 1);
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
