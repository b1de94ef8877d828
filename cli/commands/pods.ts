// Shared by logs / exec / port-forward: find the pod (POD, pod/POD, or a workload's first
// pod by its selector) and choose the container as kubectl does.

import { PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import type { CliContext } from "../context.js";
import { formatSelector } from "../describe/workloads.js";
import { CliError } from "../errors.js";
import { resolveType } from "../resources.js";

export async function resolvePod(ctx: CliContext, arg: string): Promise<Pod> {
  const slash = arg.indexOf("/");
  if (slash < 0) return ctx.client.get(PODS, ctx.namespace, arg);
  const r = resolveType(arg.slice(0, slash));
  const name = arg.slice(slash + 1);
  if (r === PODS) return ctx.client.get(PODS, ctx.namespace, name);
  const owner = await ctx.client.get(r, ctx.namespace, name);
  const selector = (owner.spec as { selector?: unknown } | undefined)?.selector;
  const sel =
    r.resource === "services"
      ? Object.entries((selector ?? {}) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")
      : formatSelector(selector as Parameters<typeof formatSelector>[0]);
  if (!sel || sel === "<none>") throw new CliError(`error: cannot attach to ${r.kind}: selector for ${name} is empty`);
  const list = await ctx.client.list(PODS, ctx.namespace, { labelSelector: sel });
  const sorted = list.items.sort((a, b) => {
    // Prefer running pods, then the oldest, like kubectl's ByLogging ordering.
    const ra = a.status?.phase === "Running" ? 0 : 1;
    const rb = b.status?.phase === "Running" ? 0 : 1;
    return ra - rb || (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "");
  });
  const pod = sorted[0];
  if (!pod) throw new CliError(`error: no pods found for ${r.kind.toLowerCase()}/${name}`);
  if (sorted.length > 1) ctx.printErr(`Found ${sorted.length} pods, using pod/${pod.metadata.name}\n`);
  return pod;
}

/** -c, else the default-container annotation, else the first container (noting the choice on stderr). */
export function chooseContainer(ctx: CliContext, pod: Pod, requested: string | undefined): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const all = [...names, ...(pod.spec?.initContainers ?? []).map((c) => c.name)];
  if (requested) {
    if (!all.includes(requested)) {
      throw new CliError(`error: container ${requested} is not valid for pod ${pod.metadata.name}`);
    }
    return requested;
  }
  const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  if (annotated && names.includes(annotated)) return annotated;
  const first = names[0];
  if (!first) throw new CliError(`error: pod ${pod.metadata.name} has no containers`);
  if (names.length > 1) ctx.printErr(`Defaulted container "${first}" out of: ${names.join(", ")}\n`);
  return first;
}
