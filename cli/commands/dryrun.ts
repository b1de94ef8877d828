// Creating an object the way kubectl's generators do: --dry-run=client prints without
// sending, --dry-run=server sends with dryRun=All, and -o yaml|json|name prints the result.

import type { KubeObject } from "#pkg/api/meta.js";
import { apiVersionOf, type ResourceInfo } from "#pkg/api/resources.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { asPrintable, toJson, toYaml } from "../printers.js";
import { kindPrefix } from "../resources.js";

export type DryRun = "none" | "client" | "server";

/** commander gives `true` for a bare --dry-run, which kubectl treats as "client". */
export function parseDryRun(v: string | boolean | undefined): DryRun {
  if (v === undefined || v === false) return "none";
  if (v === true) return "client";
  if (v === "none" || v === "client" || v === "server") return v;
  throw new CliError(`error: Invalid dry-run value (${v}). Must be "none", "server", or "client".`);
}

export async function createAndReport(
  ctx: CliContext,
  r: ResourceInfo,
  ns: string | undefined,
  body: KubeObject,
  o: { fieldManager: string; dryRun: DryRun; verb?: string },
): Promise<void> {
  let obj: KubeObject = body;
  if (o.dryRun !== "client") {
    obj = await ctx.client.create<KubeObject>(r, ns, body, {
      fieldManager: o.fieldManager,
      fieldValidation: "Strict",
      ...(o.dryRun === "server" ? { dryRun: true } : {}),
    });
  } else if (r.namespaced && ns && !obj.metadata.namespace && ctx.namespaceExplicit) {
    obj = { ...obj, metadata: { ...obj.metadata, namespace: ns } };
  }
  const output = ctx.opts.output;
  const id = `${kindPrefix(r)}/${obj.metadata?.name ?? body.metadata.name}`;
  if (output === "yaml" || output === "json") {
    const typed = { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind };
    ctx.print(output === "json" ? toJson(asPrintable([typed], false)) : toYaml(asPrintable([typed], false)));
    return;
  }
  if (output === "name") {
    ctx.print(`${id}\n`);
    return;
  }
  const suffix = o.dryRun === "client" ? " (dry run)" : o.dryRun === "server" ? " (server dry run)" : "";
  ctx.print(`${id} ${o.verb ?? "created"}${suffix}\n`);
}
