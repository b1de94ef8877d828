// core/v1 Secret (upstream pkg/registry/core/secret/strategy.go, printers.go).

import { type FieldError, fieldInvalid, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Secret } from "#pkg/api/types/core.js";
import { fieldImmutable } from "#pkg/api/validation.js";
import { age, ageCol, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { BASE64_RE, configKeyErrors, immutableDataErrors, MAX_DATA_BYTES } from "../configmap/strategy.js";

/** stringData is write-only: merged into data (base64) and dropped, as upstream's conversion does. */
export function mergeStringData(s: Secret): void {
  if (!s.stringData || typeof s.stringData !== "object") return;
  s.data ??= {};
  for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(String(v), "utf8").toString("base64");
  delete s.stringData;
}

function validateSecret(s: Secret): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(s.data ?? {})) {
    errs.push(...configKeyErrors(k, "data"));
    if (typeof v !== "string" || !BASE64_RE.test(v))
      errs.push(fieldInvalid(`data[${k}]`, "<secret contents redacted>", "must be base64-encoded"));
    else size += Buffer.from(v, "base64").length;
  }
  if (size > MAX_DATA_BYTES) errs.push(fieldTooLongData());
  const data = s.data ?? {};
  switch (s.type) {
    case "kubernetes.io/service-account-token":
      if (!s.metadata.annotations?.["kubernetes.io/service-account.name"]) {
        errs.push(fieldRequired("metadata.annotations[kubernetes.io/service-account.name]"));
      }
      break;
    case "kubernetes.io/dockerconfigjson":
      if (!data[".dockerconfigjson"]) errs.push(fieldRequired("data[.dockerconfigjson]"));
      break;
    case "kubernetes.io/dockercfg":
      if (!data[".dockercfg"]) errs.push(fieldRequired("data[.dockercfg]"));
      break;
    case "kubernetes.io/basic-auth":
      if (!data.username && !data.password) errs.push(fieldRequired("data[username]"));
      break;
    case "kubernetes.io/ssh-auth":
      if (!data["ssh-privatekey"]) errs.push(fieldRequired("data[ssh-privatekey]"));
      break;
    case "kubernetes.io/tls":
      if (!data["tls.key"]) errs.push(fieldRequired("data[tls.key]"));
      if (!data["tls.crt"]) errs.push(fieldRequired("data[tls.crt]"));
      break;
  }
  return errs;
}

function fieldTooLongData(): FieldError {
  return { field: "data", type: "FieldValueTooLong", message: `Too long: must have at most ${MAX_DATA_BYTES} bytes` };
}

export function secretStrategy(r: ResourceInfo): Strategy<Secret> {
  return makeStrategy<Secret>(
    r,
    {
      applyDefaults(s) {
        s.type ||= "Opaque";
        mergeStringData(s);
      },
      validate: validateSecret,
      validateUpdate(s, old) {
        const errs = [...validateSecret(s), ...immutableDataErrors(s, old)];
        if ((old.type ?? "Opaque") !== (s.type ?? "Opaque")) errs.push(fieldImmutable("type", s.type ?? ""));
        return errs;
      },
      selectableFields: (s) => ({ type: s.type ?? "" }),
      columns: [
        nameCol(),
        col("Type", "string", "Used to facilitate programmatic handling of secret data."),
        col("Data", "string", "Data contains the secret data."),
        ageCol(),
      ],
      row: (s, now) => [s.metadata.name ?? "", s.type ?? "", Object.keys(s.data ?? {}).length, age(s, now)],
    },
    { hasStatus: false },
  );
}
