// The 403 a denied request gets (upstream endpoints/handlers/responsewriters.Forbidden and
// apierrors.NewForbidden): `pods is forbidden: User "x" cannot list resource "pods" in API group
// "" in the namespace "y"`, with the authorizer's reason after a colon when it gave one.

import { StatusError } from "#pkg/api/errors.js";
import type { Attributes } from "./authorizer.js";

/** upstream forbiddenMessage. */
export function forbiddenMessage(a: Attributes): string {
  const user = a.user.name;
  if (!a.resourceRequest) return `User ${JSON.stringify(user)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const head = `User ${JSON.stringify(user)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)}`;
  return a.namespace ? `${head} in the namespace ${JSON.stringify(a.namespace)}` : `${head} at the cluster scope`;
}

/** upstream apierrors.NewForbidden(groupResource, name, err). */
export function newForbidden(group: string, resource: string, name: string, why: string): StatusError {
  const qualified = resource ? (group ? `${resource}.${group}` : resource) : "";
  let message: string;
  if (!qualified) message = `forbidden: ${why}`;
  else if (!name) message = `${qualified} is forbidden: ${why}`;
  else message = `${qualified} ${JSON.stringify(name)} is forbidden: ${why}`;
  // Go's omitempty: empty detail fields are left out.
  const details: { name?: string; group?: string; kind?: string } = {};
  if (name) details.name = name;
  if (group) details.group = group;
  if (resource) details.kind = resource;
  return new StatusError(403, "Forbidden", message, details);
}

/** The Status a denied request is answered with. */
export function forbidden(a: Attributes, reason: string): StatusError {
  const msg = forbiddenMessage(a);
  return newForbidden(a.apiGroup, a.resource, a.name, reason ? `${msg}: ${reason}` : msg);
}
