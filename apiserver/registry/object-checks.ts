// The checks of a written object against its request, in one place (upstream: the create and
// update handlers' decoding checks and rest.BeforeCreate's namespace check): a JSON object, the
// resource's apiVersion and kind (filled in when absent, as upstream's defaulting decoder does),
// the request's namespace (filled in when absent; 400 when different) and, for updates, the name
// of the URL. The store runs them on every write; the routes run them on the bodies that no
// store checks (Binding, Eviction, Scale).

import { badRequest } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";

export interface ExpectedObject {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/** body as an object with an object metadata (created when absent); 400 otherwise. */
export function objectOf(body: unknown, kind: string): KubeObject {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): expected a JSON object`);
  }
  const obj = body as KubeObject;
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (typeof obj.metadata !== "object" || Array.isArray(obj.metadata)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): metadata must be an object`);
  }
  return obj;
}

/** Checks body against the request (see above) and returns it, with the defaults filled in. */
export function checkObject(
  body: unknown,
  expect: ExpectedObject,
  namespace: string | undefined,
  urlName: string | undefined,
): KubeObject {
  const obj = objectOf(body, expect.kind);
  if (obj.apiVersion === undefined || obj.apiVersion === "") obj.apiVersion = expect.apiVersion;
  else if (obj.apiVersion !== expect.apiVersion) {
    throw badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expect.apiVersion})`,
    );
  }
  if (obj.kind === undefined || obj.kind === "") obj.kind = expect.kind;
  else if (obj.kind !== expect.kind) {
    throw badRequest(
      `the object provided is unrecognized (must be of type ${expect.kind}): kind "${String(obj.kind)}" does not match the URL`,
    );
  }
  const meta = obj.metadata;
  if (expect.namespaced) {
    if (!namespace) throw badRequest("a namespace is required for a namespaced resource");
    if (meta.namespace === undefined || meta.namespace === "") meta.namespace = namespace;
    else if (meta.namespace !== namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
  } else if (meta.namespace !== undefined) {
    delete meta.namespace; // upstream clears it for cluster-scoped kinds
  }
  if (urlName !== undefined && meta.name !== urlName) {
    throw badRequest(`the name of the object (${meta.name ?? ""}) does not match the name on the URL (${urlName})`);
  }
  return obj;
}
