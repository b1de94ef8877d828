// kubeling logs: GET .../pods/NAME/log, the body streamed to stdout as it arrives. With -l,
// every matching pod (tail 10 by default, like kubectl); --all-containers and --prefix too.

import { PODS, resourcePath } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { chooseContainer, resolvePod } from "./pods.js";

export interface LogsOptions {
  container?: string;
  follow?: boolean;
  tail: string;
  previous?: boolean;
  timestamps?: boolean;
  since?: string;
  allContainers?: boolean;
  prefix?: boolean;
}

async function streamLog(
  ctx: CliContext,
  pod: Pod,
  container: string,
  o: LogsOptions,
  tail: number,
  prefix: boolean,
): Promise<void> {
  const query: Record<string, string> = { container };
  if (o.follow) query.follow = "true";
  if (tail >= 0) query.tailLines = String(tail);
  if (o.previous) query.previous = "true";
  if (o.timestamps) query.timestamps = "true";
  if (o.since) query.sinceSeconds = String(Math.max(1, Math.ceil(parseDuration(o.since) / 1000)));
  const path = resourcePath(PODS, pod.metadata.namespace, pod.metadata.name, "log");
  const body = await ctx.client.stream(path, { query });
  const tag = `[pod/${pod.metadata.name}/${container}] `;
  let partial = "";
  for await (const chunk of body) {
    let data: string | Buffer = chunk as Buffer;
    if (prefix) {
      // Prefix whole lines only; a line split across chunks waits for its end.
      const text = partial + data.toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      if (lines.length === 0) continue;
      data = lines.map((l) => `${tag}${l}\n`).join("");
    }
    if (!ctx.io.out.write(data)) await new Promise((r) => ctx.io.out.once("drain", r));
  }
  if (prefix && partial) ctx.io.out.write(`${tag}${partial}\n`);
}

export async function runLogs(ctx: CliContext, podArg: string | undefined, o: LogsOptions): Promise<number> {
  let tail = Number(o.tail);
  if (Number.isNaN(tail)) throw new CliError(`error: invalid argument "${o.tail}" for "--tail" flag`);
  let targets: Pod[];
  const bySelector = podArg === undefined;
  if (bySelector) {
    if (!ctx.opts.selector)
      throw new CliError(
        "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command",
      );
    targets = (await ctx.client.list(PODS, ctx.namespace, { labelSelector: ctx.opts.selector })).items;
    if (targets.length === 0) {
      ctx.printErr(`No resources found in ${ctx.namespace} namespace.\n`);
      return 0;
    }
    if (tail < 0) tail = 10;
  } else {
    targets = [await resolvePod(ctx, podArg)];
  }
  const jobs: Array<{ pod: Pod; container: string }> = [];
  for (const pod of targets) {
    if (o.allContainers) {
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])])
        jobs.push({ pod, container: c.name });
    } else {
      jobs.push({
        pod,
        container:
          bySelector && !o.container ? (pod.spec?.containers?.[0]?.name ?? "") : chooseContainer(ctx, pod, o.container),
      });
    }
  }
  const prefix = Boolean(o.prefix);
  if (o.follow && jobs.length > 1) {
    await Promise.all(jobs.map((j) => streamLog(ctx, j.pod, j.container, o, tail, prefix)));
  } else {
    for (const j of jobs) await streamLog(ctx, j.pod, j.container, o, tail, prefix);
  }
  return 0;
}
