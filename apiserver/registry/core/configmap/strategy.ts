import { type FieldError, fieldForbidden, fieldInvalid } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { ConfigMap, Secret } from "#pkg/api/types/core.js";
import { configMapKeyErrors } from "#pkg/api/validation.js";
import { age, ageCol, col, deepEqual, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

export const MAX_DATA_BYTES = 1024 * 1024;

export function configKeyErrors(key: string, path: string): FieldError[] {
  return configMapKeyErrors(key).map((msg) => fieldInvalid(path, key, msg));
}

export const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    errs.push(...configKeyErrors(k, "data"));
    if (typeof v !== "string") errs.push(fieldInvalid(`data[${k}]`, v, "must be a string"));
    else size += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
    errs.push(...configKeyErrors(k, "binaryData"));
    if (cm.data && k in cm.data) errs.push(fieldInvalid("binaryData", k, "duplicate of key present in data"));
    if (typeof v !== "string" || !BASE64_RE.test(v))
      errs.push(fieldInvalid(`binaryData[${k}]`, "<binary>", "must be base64-encoded"));
    else size += Buffer.from(v, "base64").length;
  }
  if (size > MAX_DATA_BYTES) errs.push(fieldInvalid("", "", `must have at most ${MAX_DATA_BYTES} bytes`));
  return errs;
}

export function immutableDataErrors(obj: ConfigMap | Secret, old: ConfigMap | Secret): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable === true) {
    if (obj.immutable !== true) errs.push(fieldForbidden("immutable", "field is immutable when `immutable` is set"));
    if (!deepEqual(obj.data, old.data)) errs.push(fieldForbidden("data", "field is immutable when `immutable` is set"));
    if (!deepEqual(obj.binaryData, old.binaryData)) {
      errs.push(fieldForbidden("binaryData", "field is immutable when `immutable` is set"));
    }
  }
  return errs;
}

export function configMapStrategy(r: ResourceInfo): Strategy<ConfigMap> {
  return makeStrategy<ConfigMap>(
    r,
    {
      validate: validateConfigMap,
      validateUpdate: (cm, old) => [...validateConfigMap(cm), ...immutableDataErrors(cm, old)],
      columns: [nameCol(), col("Data", "string", "Data contains the configuration data."), ageCol()],
      row: (cm, now) => [
        cm.metadata.name ?? "",
        Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
        age(cm, now),
      ],
    },
    { hasStatus: false },
  );
}
