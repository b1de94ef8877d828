// kubeling apply -f / create -f: one request per manifest object, reported per object like
// kubectl (`deployment.apps/web created|configured|unchanged|serverside-applied`).

import { isNotFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { readLastApplied, threeWayMergePatch, withLastApplied } from "../applypatch.js";
import type { CliContext } from "../context.js";
import { CliError, formatError } from "../errors.js";
import { loadManifests } from "../manifest.js";
import { kindPrefix, resourceForObject } from "../resources.js";

export interface ApplyOptions {
  filenames: string[];
  serverSide?: boolean;
  forceConflicts?: boolean;
  fieldManager?: string;
}

/** The namespace a manifest object goes to; refuses a conflict with an explicit -n. */
export function namespaceForObject(ctx: CliContext, r: ResourceInfo, obj: KubeObject): string | undefined {
  if (!r.namespaced) return undefined;
  const own = obj.metadata?.namespace;
  if (own && ctx.namespaceExplicit && own !== ctx.namespace) {
    throw new CliError(
      `error: the namespace from the provided object "${own}" does not match the namespace "${ctx.namespace}". You must pass '--namespace=${own}' to perform this operation.`,
    );
  }
  return own || ctx.namespace;
}

function requireName(obj: KubeObject, source: string): string {
  const name = obj.metadata?.name;
  if (!name) {
    throw new CliError(
      `error: error when retrieving current configuration of:\nResource: "${obj.kind}", Name: "", Namespace: "${obj.metadata?.namespace ?? ""}"\nfrom server for: "${source}": resource name may not be empty`,
    );
  }
  return name;
}

export async function runApply(ctx: CliContext, o: ApplyOptions): Promise<number> {
  const items = await loadManifests(o.filenames, { stdin: ctx.io.in, verb: "apply" });
  let failed = false;
  for (const { source, object } of items) {
    let verb = "creating";
    try {
      const r = resourceForObject(object);
      const ns = namespaceForObject(ctx, r, object);
      const name = requireName(object, source);
      const id = `${kindPrefix(r)}/${name}`;
      if (o.serverSide) {
        verb = "patching";
        await ctx.client.patch(r, ns, name, object, "apply", {
          fieldManager: o.fieldManager ?? "kubectl",
          force: Boolean(o.forceConflicts),
        });
        ctx.print(`${id} serverside-applied\n`);
        continue;
      }
      let live: KubeObject | undefined;
      try {
        live = await ctx.client.get(r, ns, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      const modified = withLastApplied(object);
      if (!live) {
        await ctx.client.create(r, ns, modified, {
          fieldManager: o.fieldManager ?? "kubectl-client-side-apply",
          fieldValidation: "Strict",
        });
        ctx.print(`${id} created\n`);
        continue;
      }
      verb = "patching";
      const original = readLastApplied(live);
      if (!original) {
        ctx.printErr(
          `Warning: resource ${r.resource}/${name} is missing the kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubeling apply. kubeling apply should only be used on resources created declaratively by either kubeling create --save-config or kubeling apply. The missing annotation will be patched automatically.\n`,
        );
      }
      const patch = threeWayMergePatch(original, modified, live);
      if (Object.keys(patch).length === 0) {
        ctx.print(`${id} unchanged\n`);
        continue;
      }
      await ctx.client.patch(r, ns, name, patch, "merge", {
        fieldManager: o.fieldManager ?? "kubectl-client-side-apply",
      });
      ctx.print(`${id} configured\n`);
    } catch (err) {
      failed = true;
      ctx.printErr(`${formatError(err, { verb, source, server: ctx.serverForMessages })}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function runCreate(ctx: CliContext, o: { filenames: string[]; saveConfig?: boolean }): Promise<number> {
  const items = await loadManifests(o.filenames, { stdin: ctx.io.in, verb: "create" });
  let failed = false;
  for (const { source, object } of items) {
    try {
      const r = resourceForObject(object);
      const ns = namespaceForObject(ctx, r, object);
      const body = o.saveConfig ? withLastApplied(object) : object;
      const created = await ctx.client.create<KubeObject>(r, ns, body, {
        fieldManager: "kubectl-create",
        fieldValidation: "Strict",
      });
      ctx.print(`${kindPrefix(r)}/${created?.metadata?.name ?? object.metadata.name} created\n`);
    } catch (err) {
      failed = true;
      ctx.printErr(`${formatError(err, { verb: "creating", source, server: ctx.serverForMessages })}\n`);
    }
  }
  return failed ? 1 : 0;
}
