// Who may use the kubelet's API, and for what (upstream pkg/kubelet/server/auth.go and the auth
// filter of server.go). Every request on the kubelet's port is authenticated (a client
// certificate of --client-ca-file, such as the API server's kubelet-client certificate; a bearer
// token through TokenReview; anonymous only with --anonymous-auth) and then authorized as a
// request on the Node object: verb from the HTTP method, resource nodes, name the node's, and a
// subresource from the path, so that access can be granted in slices (nodes/stats to a metrics
// collector, nodes/log, nodes/proxy for everything that runs code: exec, attach, port-forward,
// container logs). With KubeletFineGrainedAuthz (on by default upstream since 1.33) /pods,
// /healthz and /configz ask for their own subresource first and fall back to nodes/proxy.

import type { UserInfo } from "#pkg/server/authentication.js";
import type { Attributes } from "#pkg/server/authorization.js";

/** upstream isSubpath: path itself, or below it. */
export function isSubpath(subpath: string, path: string): boolean {
  const p = path.replace(/\/$/, "");
  return subpath === p || (subpath.startsWith(p) && subpath[p.length] === "/");
}

/** upstream's verb of a kubelet request; other methods (HEAD, OPTIONS) have none, as upstream's. */
function verbOf(method: string): string {
  switch (method) {
    case "POST":
      return "create";
    case "GET":
      return "get";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return "";
  }
}

/** The subresources a path is authorized as, in the order they are tried. */
export function subresourcesOf(path: string): string[] {
  const out: string[] = [];
  // KubeletFineGrainedAuthz.
  if (isSubpath(path, "/pods") || isSubpath(path, "/runningpods/")) out.push("pods");
  else if (isSubpath(path, "/healthz")) out.push("healthz");
  else if (isSubpath(path, "/configz")) out.push("configz");
  else if (isSubpath(path, "/statusz")) out.push("statusz");
  if (isSubpath(path, "/stats/")) out.push("stats");
  else if (isSubpath(path, "/metrics")) out.push("metrics");
  // "log" to match the other log subresources (pods/log).
  else if (isSubpath(path, "/logs/")) out.push("log");
  else if (isSubpath(path, "/checkpoint/")) out.push("checkpoint");
  else out.push("proxy");
  return out;
}

/** upstream nodeAuthorizerAttributesGetter.GetRequestAttributes. */
export function nodeRequestAttributes(user: UserInfo, method: string, path: string, nodeName: string): Attributes[] {
  return subresourcesOf(path).map((subresource) => ({
    user,
    verb: verbOf(method),
    resourceRequest: true,
    path,
    namespace: "",
    apiGroup: "",
    apiVersion: "v1",
    resource: "nodes",
    subresource,
    name: nodeName,
  }));
}

/** The body of the kubelet's 403 (upstream's auth filter, verbatim). */
export function forbiddenText(attrs: readonly Attributes[]): string {
  const first = attrs[0];
  if (!first) return "Authorization error: could not determine attributes for request";
  const subresources = attrs.map((a) => a.subresource).join(" ");
  return `Forbidden (user=${first.user.name}, verb=${first.verb}, resource=${first.resource}, subresource(s)=[${subresources}])\n`;
}

/** The body of the kubelet's 500 when a SubjectAccessReview could not be made. */
export function authorizationErrorText(a: Attributes): string {
  return `Authorization error (user=${a.user.name}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`;
}
