// core/v1 ReplicationController (upstream pkg/registry/core/replicationcontroller/strategy.go,
// SetDefaults_ReplicationController in pkg/apis/core/v1/defaults.go, ValidateReplicationController
// in pkg/apis/core/validation and the printer's replicationControllerColumnDefinitions).
// ReplicaSet's older sibling: an equality selector (a plain map) instead of a LabelSelector, a
// selector that may change, and selector and labels defaulted from the template's labels.

import { type FieldError, fieldRequired } from "#pkg/api/errors.js";
import { selectorFromSet } from "#pkg/api/labels.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { ReplicationController } from "#pkg/api/types/core.js";
import { defaultTemplate, nonNegative, selectorMismatch, validateControllerTemplate } from "../../apps/template.js";
import {
  age,
  ageCol,
  col,
  containerCells,
  containersCol,
  formatLabels,
  imagesCol,
  makeStrategy,
  nameCol,
} from "../../common.js";
import type { Strategy } from "../../strategy.js";

const RC_DOC =
  "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller";
const DESIRED_DESC = `Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: ${RC_DOC}`;
const CURRENT_DESC = `Replicas is the most recently observed number of replicas. More info: ${RC_DOC}`;
const READY_DESC = "The number of ready replicas for this replication controller.";
const SELECTOR_DESC =
  "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";

const isEmpty = (m: Record<string, string> | undefined): boolean => Object.keys(m ?? {}).length === 0;

/** Upstream SetDefaults_ReplicationController: selector and labels from the template, one replica. */
function defaultReplicationController(rc: ReplicationController): void {
  if (!rc.spec || typeof rc.spec !== "object") return;
  const labels = rc.spec.template?.metadata?.labels;
  if (labels) {
    if (isEmpty(rc.spec.selector)) rc.spec.selector = { ...labels };
    if (isEmpty(rc.metadata.labels)) rc.metadata.labels = { ...labels };
  }
  rc.spec.replicas ??= 1;
  defaultTemplate(rc.spec.template);
}

/** Upstream ValidateReplicationControllerSpec (the metadata is the store's). */
function validateReplicationController(rc: ReplicationController): FieldError[] {
  const spec = rc.spec ?? {};
  const errs = nonNegative(spec.minReadySeconds, "spec.minReadySeconds");
  const selector = selectorFromSet(spec.selector);
  if (selector.empty) errs.push(fieldRequired("spec.selector"));
  errs.push(...nonNegative(spec.replicas, "spec.replicas"));
  const template = spec.template;
  if (!template) {
    errs.push(fieldRequired("spec.template"));
    return errs;
  }
  if (!selector.empty && !selector.matches(template.metadata?.labels ?? {}))
    errs.push(selectorMismatch("spec.template", template));
  errs.push(
    ...validateControllerTemplate(template, "spec.template", {
      restartPolicies: ["Always"],
      controllerKind: "ReplicationController",
    }),
  );
  return errs;
}

export function replicationControllerStrategy(r: ResourceInfo): Strategy<ReplicationController> {
  return makeStrategy<ReplicationController>(
    r,
    {
      applyDefaults: defaultReplicationController,
      // Upstream keeps core/v1's old default: a delete that names no policy orphans an RC's pods.
      defaultGarbageCollectionPolicy: "OrphanDependents",
      prepareForCreate(rc) {
        rc.status = { replicas: 0 };
      },
      validate: validateReplicationController,
      // Unlike a ReplicaSet's, an RC's selector may change.
      validateUpdate: (rc) => validateReplicationController(rc),
      selectableFields: (rc) => ({ "status.replicas": String(rc.status?.replicas ?? 0) }),
      columns: [
        nameCol(),
        col("Desired", "integer", DESIRED_DESC),
        col("Current", "integer", CURRENT_DESC),
        col("Ready", "integer", READY_DESC),
        ageCol(),
        containersCol(),
        imagesCol(),
        col("Selector", "string", SELECTOR_DESC, 1),
      ],
      row: (rc, now) => {
        const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
        return [
          rc.metadata.name ?? "",
          rc.spec?.replicas ?? 0,
          rc.status?.replicas ?? 0,
          rc.status?.readyReplicas ?? 0,
          age(rc, now),
          names,
          images,
          formatLabels(rc.spec?.selector),
        ];
      },
    },
    { generation: true },
  );
}
