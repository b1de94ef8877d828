// Turning what the user typed ("po", "deploy.apps", "pods,svc", "pod/web", "all") into
// resource descriptors from the shared registry.

import type { KubeObject } from "#pkg/api/meta.js";
import { type ResourceInfo, registry } from "#pkg/api/resources.js";
import { CliError } from "./errors.js";

export function resolveType(name: string): ResourceInfo {
  const r = registry.lookup(name);
  if (!r) throw new CliError(`error: the server doesn't have a resource type "${name}"`);
  return r;
}

/** "deployment.apps" / "pod": the prefix kubectl prints before names. */
export function kindPrefix(r: ResourceInfo): string {
  const kind = r.kind.toLowerCase();
  return r.group ? `${kind}.${r.group}` : kind;
}

/** "deployments.apps" / "pods": how kubectl names a resource in messages. */
export function qualifiedResource(r: ResourceInfo): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

export interface TypeRequest {
  r: ResourceInfo;
  /** Empty: every object of the type. */
  names: string[];
}

/**
 * kubectl's argument forms: `TYPE[,TYPE...] [NAME...]` or `TYPE/NAME [TYPE/NAME...]`.
 * `all` expands to the "all" category in registry (discovery) order.
 */
export function parseTypeArgs(args: string[]): TypeRequest[] {
  if (args.length === 0) throw new CliError("error: you must specify the type of resource to get");
  const first = args[0] ?? "";
  if (first.includes("/")) {
    const out: TypeRequest[] = [];
    for (const a of args) {
      const slash = a.indexOf("/");
      if (slash <= 0 || slash === a.length - 1) {
        throw new CliError(
          `error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubeling get resource/<resource_name>' instead of 'kubeling get resource resource/<resource_name>'`,
        );
      }
      const r = resolveType(a.slice(0, slash));
      const name = a.slice(slash + 1);
      const existing = out.find((t) => t.r === r);
      if (existing) existing.names.push(name);
      else out.push({ r, names: [name] });
    }
    return out;
  }
  const names = args.slice(1);
  const types: ResourceInfo[] = [];
  for (const t of first.split(",").filter((s) => s !== "")) {
    const expanded = t === "all" ? registry.category("all") : [resolveType(t)];
    for (const r of expanded) if (!types.includes(r)) types.push(r);
  }
  return types.map((r) => ({ r, names: [...names] }));
}

/** The resource of a manifest object, by apiVersion and kind. */
export function resourceForObject(obj: KubeObject): ResourceInfo {
  const r = registry.byKind(obj.apiVersion ?? "", obj.kind ?? "");
  if (!r) {
    throw new CliError(
      `error: resource mapping not found for name: "${obj.metadata?.name ?? ""}" namespace: "${obj.metadata?.namespace ?? ""}" from "": no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`,
    );
  }
  return r;
}
