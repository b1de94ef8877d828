// The pod template rules the apps and batch kinds share (upstream pkg/apis/apps/validation, pkg/apis/apps/v1/defaults.go).

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import { selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { ObjectMeta } from "#pkg/api/meta.js";
import type { PodTemplateSpec } from "#pkg/api/types/core.js";
import type { LabelSelector } from "#pkg/api/types/meta.js";
import { fieldImmutable, validateLabels, validateObjectMeta } from "#pkg/api/validation.js";
import { deepEqual } from "../common.js";
import { validateLabelSelector, validatePodSpec } from "../core/pod/podspec.js";
import { defaultPodSpecAndCanonicalize } from "../core/pod/strategy.js";

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
    controllerKind?: string;
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
  if (selector && !emptySelector) {
    try {
      if (!selectorFromLabelSelector(selector).matches(template.metadata?.labels ?? {})) {
        errs.push(selectorMismatch(`${sp}.template`, template));
      }
    } catch {
      // an invalid selector is already reported above
    }
  }
  errs.push(...validateControllerTemplate(template, `${sp}.template`, o));
  return errs;
}

/** Upstream's error for a template whose labels the controller's selector does not match. */
export function selectorMismatch(path: string, template: PodTemplateSpec): FieldError {
  return fieldInvalid(
    `${path}.metadata.labels`,
    template.metadata?.labels ?? {},
    "`selector` does not match template `labels`",
  );
}

/**
 * The pod template of a controller, past its selector (upstream ValidatePodTemplateSpec and the
 * checks ValidatePodTemplateSpecForReplicaSet / ForRC add): metadata, pod spec, restartPolicy one
 * of allowed, and no activeDeadlineSeconds for pods meant to run for ever.
 */
export function validateControllerTemplate(
  template: PodTemplateSpec,
  path: string,
  o: { restartPolicies: readonly string[]; extraVolumes?: readonly string[]; controllerKind?: string },
): FieldError[] {
  const errs = templateMetaErrors(template.metadata, `${path}.metadata`);
  errs.push(...validatePodSpec(template.spec, `${path}.spec`, o.extraVolumes));
  const rp = template.spec?.restartPolicy;
  if (rp !== undefined && !o.restartPolicies.includes(rp)) {
    errs.push(fieldNotSupported(`${path}.spec.restartPolicy`, rp, o.restartPolicies));
  }
  if (template.spec?.activeDeadlineSeconds !== undefined && o.restartPolicies.includes("Always")) {
    errs.push(
      fieldForbidden(
        `${path}.spec.activeDeadlineSeconds`,
        `activeDeadlineSeconds in ${o.controllerKind ?? "ReplicaSet"} is not Supported`,
      ),
    );
  }
  return errs;
}

export function nonNegative(v: unknown, path: string): FieldError[] {
  if (v === undefined) return [];
  return typeof v === "number" && Number.isInteger(v) && v >= 0
    ? []
    : [fieldInvalid(path, v, "must be greater than or equal to 0")];
}

/**
 * IntOrString percent/int fields (maxSurge, maxUnavailable): a non-negative int or "N%"
 * (upstream ValidatePositiveIntOrPercent), and unless `allowOver100`, at most 100%
 * (IsNotMoreThan100Percent: a Deployment's maxSurge may exceed it).
 */
export function intOrPercent(
  v: number | string | undefined,
  path: string,
  o: { allowOver100?: boolean } = {},
): FieldError[] {
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
  if (!o.allowOver100 && Number(m[1]) > 100) return [fieldInvalid(path, v, "must not be greater than 100%")];
  return [];
}

/** The int or percentage is 0 (absent counts as 0, as upstream's getIntOrPercentValue of nil). */
export const isZero = (v: number | string | undefined): boolean =>
  v === undefined || v === 0 || (typeof v === "string" && /^0+%$/.test(v));

export function selectorImmutable(
  n: LabelSelector | undefined,
  o: LabelSelector | undefined,
  path = "spec.selector",
): FieldError[] {
  return deepEqual(n, o) ? [] : [fieldImmutable(path, n ?? null)];
}
