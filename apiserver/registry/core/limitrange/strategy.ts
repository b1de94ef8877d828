// core/v1 LimitRange (upstream pkg/registry/core/limitrange/strategy.go, SetDefaults_LimitRangeItem,
// ValidateLimitRange, printers.go printLimitRange): defaults and bounds of the resources of the
// namespace's containers and pods, applied by the LimitRanger admission plugin.

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import { canonicalQuantity, formatQuantity, isValidQuantity, parseQuantityExact } from "#pkg/api/quantity.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { LimitRange, LimitRangeItem } from "#pkg/api/types/core.js";
import { qualifiedNameErrors, validateQuantity } from "#pkg/api/validation.js";
import { AGE_DESC, col, isObject, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

export const LIMIT_TYPES = ["Pod", "Container", "PersistentVolumeClaim"] as const;

type Quantities = Record<string, string | number>;

/**
 * upstream SetDefaults_LimitRangeItem: for containers, a default limit is the max, a default
 * request is the default limit, else the min.
 */
export function defaultLimitRangeItem(item: LimitRangeItem): void {
  if (item.type !== "Container") return;
  item.default ??= {};
  item.defaultRequest ??= {};
  const def = item.default as Quantities;
  const req = item.defaultRequest as Quantities;
  for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
  for (const [k, v] of Object.entries(def)) if (!(k in req)) req[k] = v;
  for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in req)) req[k] = v;
}

const FIELDS = ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] as const;

const quantity = (v: unknown) => (isValidQuantity(v) ? parseQuantityExact(v as string | number) : undefined);
const text = (v: unknown) => {
  const q = quantity(v);
  return q ? formatQuantity(q) : String(v);
};

/** upstream ValidateLimitRange. */
export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs: FieldError[] = [];
  const limits = lr.spec?.limits;
  if (!Array.isArray(limits)) return [fieldRequired("spec.limits")];
  limits.forEach((item, i) => {
    const p = `spec.limits[${i}]`;
    if (!(LIMIT_TYPES as readonly string[]).includes(item.type)) {
      errs.push(fieldNotSupported(`${p}.type`, item.type, LIMIT_TYPES));
      return;
    }
    for (const f of FIELDS) {
      for (const [k, v] of Object.entries(item[f] ?? {})) {
        const fp = `${p}.${f}[${k}]`;
        errs.push(...qualifiedNameErrors(k).map((m) => fieldInvalid(fp, k, m)));
        errs.push(...validateQuantity(v, fp));
      }
    }
    if (item.type === "Pod") {
      if (Object.keys(item.default ?? {}).length > 0)
        errs.push(fieldForbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(item.defaultRequest ?? {}).length > 0)
        errs.push(fieldForbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    const keys = new Set(FIELDS.flatMap((f) => Object.keys(item[f] ?? {})));
    for (const k of keys) {
      const min = quantity(item.min?.[k]);
      const max = quantity(item.max?.[k]);
      const def = quantity(item.default?.[k]);
      const defReq = quantity(item.defaultRequest?.[k]);
      const ratio = quantity(item.maxLimitRequestRatio?.[k]);
      const t = (f: (typeof FIELDS)[number]) => text(item[f]?.[k]);
      if (min && max && min.nanos > max.nanos)
        errs.push(
          fieldInvalid(`${p}.min[${k}]`, t("min"), `min value ${t("min")} is greater than max value ${t("max")}`),
        );
      if (defReq && min && min.nanos > defReq.nanos)
        errs.push(
          fieldInvalid(
            `${p}.defaultRequest[${k}]`,
            t("defaultRequest"),
            `min value ${t("min")} is greater than default request value ${t("defaultRequest")}`,
          ),
        );
      if (defReq && max && defReq.nanos > max.nanos)
        errs.push(
          fieldInvalid(
            `${p}.defaultRequest[${k}]`,
            t("defaultRequest"),
            `default request value ${t("defaultRequest")} is greater than max value ${t("max")}`,
          ),
        );
      if (defReq && def && defReq.nanos > def.nanos)
        errs.push(
          fieldInvalid(
            `${p}.defaultRequest[${k}]`,
            t("defaultRequest"),
            `default request value ${t("defaultRequest")} is greater than default limit value ${t("default")}`,
          ),
        );
      if (def && min && min.nanos > def.nanos)
        errs.push(
          fieldInvalid(
            `${p}.default[${k}]`,
            t("min"),
            `min value ${t("min")} is greater than default value ${t("default")}`,
          ),
        );
      if (def && max && def.nanos > max.nanos)
        errs.push(
          fieldInvalid(
            `${p}.default[${k}]`,
            t("max"),
            `default value ${t("default")} is greater than max value ${t("max")}`,
          ),
        );
      if (ratio && ratio.nanos < 1_000_000_000n)
        errs.push(
          fieldInvalid(
            `${p}.maxLimitRequestRatio[${k}]`,
            t("maxLimitRequestRatio"),
            `ratio ${t("maxLimitRequestRatio")} is less than 1`,
          ),
        );
      if (ratio && min && max && min.nanos > 0n) {
        const limit = Number(max.nanos) / Number(min.nanos);
        if (Number(ratio.nanos) / 1e9 > limit)
          errs.push(
            fieldInvalid(
              `${p}.maxLimitRequestRatio[${k}]`,
              t("maxLimitRequestRatio"),
              `ratio ${t("maxLimitRequestRatio")} is greater than max/min = ${limit.toFixed(6)}`,
            ),
          );
      }
    }
  });
  return errs;
}

function canonicalize(m: Quantities | undefined): void {
  if (!isObject(m)) return;
  for (const [k, v] of Object.entries(m)) if (isValidQuantity(v)) m[k] = canonicalQuantity(v);
}

export function limitRangeStrategy(r: ResourceInfo): Strategy<LimitRange> {
  return makeStrategy<LimitRange>(r, {
    applyDefaults(lr) {
      if (!Array.isArray(lr.spec?.limits)) return;
      for (const item of lr.spec.limits) {
        if (!isObject(item)) continue;
        defaultLimitRangeItem(item);
        for (const f of FIELDS) canonicalize(item[f] as Quantities | undefined);
      }
    },
    validate: validateLimitRange,
    validateUpdate: validateLimitRange,
    columns: [nameCol(), col("Created At", "date", AGE_DESC)],
    row: (lr) => [lr.metadata.name ?? "", lr.metadata.creationTimestamp ?? ""],
  });
}
