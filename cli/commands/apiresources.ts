// kubeling api-resources: what the server's discovery documents say it serves (/api,
// /api/v1, /apis, /apis/{group}/{version}), not the client's built-in table.

import type { APIResource } from "#pkg/client/discovery.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { GET_TABWRITER, TabWriter } from "../tabwriter.js";

export interface DiscoveredResource extends APIResource {
  group: string;
  version: string;
}

/** Every top-level resource (no subresources) the server announces, preferred versions only. */
export async function discoverResources(ctx: CliContext): Promise<DiscoveredResource[]> {
  const out: DiscoveredResource[] = [];
  for (const gv of await ctx.client.discovery()) {
    for (const r of gv.resources) if (!r.name.includes("/")) out.push({ ...r, group: gv.group, version: gv.version });
  }
  // kubectl's order: by group (core first), then by name.
  out.sort((a, b) => (a.group === b.group ? a.name.localeCompare(b.name) : a.group.localeCompare(b.group)));
  return out;
}

export async function runApiResources(ctx: CliContext, o: { namespaced?: string; apiGroup?: string }): Promise<number> {
  const output = ctx.opts.output;
  if (output !== undefined && output !== "wide" && output !== "name") {
    throw new CliError(`error: --output ${output} is not available`);
  }
  let resources = await discoverResources(ctx);
  if (o.namespaced !== undefined) {
    const want = o.namespaced === "true";
    resources = resources.filter((r) => r.namespaced === want);
  }
  if (o.apiGroup !== undefined) resources = resources.filter((r) => r.group === o.apiGroup);
  if (output === "name") {
    for (const r of resources) ctx.print(`${r.group ? `${r.name}.${r.group}` : r.name}\n`);
    return 0;
  }
  const w = new TabWriter({ ...GET_TABWRITER, rememberWidths: false });
  const wide = output === "wide";
  w.write(`NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND${wide ? "\tVERBS\tCATEGORIES" : ""}\n`);
  for (const r of resources) {
    const gv = r.group ? `${r.group}/${r.version}` : r.version;
    let line = `${r.name}\t${(r.shortNames ?? []).join(",")}\t${gv}\t${r.namespaced}\t${r.kind}`;
    if (wide) line += `\t${(r.verbs ?? []).join(",")}\t${(r.categories ?? []).join(",")}`;
    w.write(`${line}\n`);
  }
  ctx.print(w.flush());
  return 0;
}
