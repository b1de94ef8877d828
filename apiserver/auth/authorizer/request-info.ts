// What a request asks for, from its method and URL alone (upstream
// k8s.io/apiserver/pkg/endpoints/request/requestinfo.go RequestInfoFactory): the kube verb
// (list/watch for collection GETs, deletecollection for collection DELETEs), the API group,
// version, namespace, resource, subresource and name. Anything that is not
// /api/{version}/... or /apis/{group}/{version}/... is a non-resource request whose verb is the
// lower-case HTTP method.

import { type FieldRequirement, parseFieldSelector } from "#pkg/api/fields.js";
import { pathSegmentNameErrors } from "#pkg/api/validation.js";
import { decode } from "../../http/path.js";
import type { UserInfo } from "../user.js";
import type { Attributes } from "./authorizer.js";

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** The path parts from the resource on: resource/name/subresource/... */
  parts: string[];
  /** The fieldSelector of a list, watch or deletecollection, parsed (undefined: none, or it did not parse). */
  fieldSelector?: readonly FieldRequirement[];
}

/** Verbs that may come first in the path (the deprecated /watch/ and /proxy/ prefixes). */
const SPECIAL_VERBS = new Set(["proxy", "watch"]);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(["proxy"]);
/** Subresources of a namespace itself: /api/v1/namespaces/{name}/status is not a resource "status". */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);
const API_PREFIXES = new Set(["api", "apis"]);
const GROUPLESS_PREFIXES = new Set(["api"]);

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

/** The selector's requirements; undefined when there is none or it does not parse (the handler answers 400 then). */
function fieldRequirements(fieldSelector: string | null): readonly FieldRequirement[] | undefined {
  if (!fieldSelector) return undefined;
  try {
    return parseFieldSelector(fieldSelector).requirements;
  } catch {
    return undefined;
  }
}

/** The value of metadata.name when the selector requires exactly that (upstream RequiresExactMatch). */
function exactName(requirements: readonly FieldRequirement[] | undefined): string | undefined {
  return requirements?.find((r) => r.field === "metadata.name" && r.operator === "=")?.value;
}

/**
 * requestInfo parses method + URL path + query. Like upstream, a malformed path is a
 * non-resource request or a resource request with what could be parsed.
 */
export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: "",
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
    parts: [],
  };
  let parts = splitPath(path).map(decode);
  if (parts.length < 3 || !API_PREFIXES.has(parts[0] as string)) return info;
  info.apiPrefix = parts[0] as string;
  parts = parts.slice(1);
  if (!GROUPLESS_PREFIXES.has(info.apiPrefix)) {
    if (parts.length < 3) return info;
    info.apiGroup = parts[0] as string;
    parts = parts.slice(1);
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[0] as string;
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0] as string)) {
    if (parts.length < 2) return info;
    info.verb = parts[0] as string;
    parts = parts.slice(1);
  } else {
    const verbs: Record<string, string> = {
      POST: "create",
      GET: "get",
      HEAD: "get",
      PUT: "update",
      PATCH: "patch",
      DELETE: "delete",
    };
    info.verb = verbs[method.toUpperCase()] ?? "";
  }

  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      info.namespace = parts[1] as string;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] as string)) parts = parts.slice(2);
    }
  }
  info.parts = parts;
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2] as string;
  if (parts.length >= 2) info.name = parts[1] as string;
  if (parts.length >= 1) info.resource = parts[0] as string;

  if (info.name === "" && info.verb === "get") {
    const watch = query.get("watch");
    info.verb = watch !== null && watch.toLowerCase() !== "false" && watch !== "0" ? "watch" : "list";
    // A list or watch of one object by name is authorized as that object (kubelets watch their Node).
    const requirements = fieldRequirements(query.get("fieldSelector"));
    const name = exactName(requirements);
    if (name !== undefined && pathSegmentNameErrors(name, false).length === 0) info.name = name;
    if (requirements) info.fieldSelector = requirements;
  }
  if (info.name === "" && info.verb === "delete") {
    info.verb = "deletecollection";
    const requirements = fieldRequirements(query.get("fieldSelector"));
    if (requirements) info.fieldSelector = requirements;
  }
  return info;
}

/** upstream GetAuthorizerAttributes. */
export function attributesOf(user: UserInfo, info: RequestInfo): Attributes {
  return {
    user,
    verb: info.verb,
    resourceRequest: info.isResourceRequest,
    path: info.path,
    namespace: info.namespace,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
    ...(info.fieldSelector ? { fieldSelector: info.fieldSelector } : {}),
  };
}
