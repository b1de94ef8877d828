// kubeling logs: GET .../pods/NAME/log, the body streamed to stdout as it arrives.

import { resourcePath } from "#pkg/api/resources.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { parseDuration } from "../format.js";
import { ensureOk } from "../stream.js";
import { chooseContainer, podsInfo, resolvePod } from "./pods.js";

export interface LogsOptions {
  container?: string;
  follow?: boolean;
  tail: string;
  previous?: boolean;
  timestamps?: boolean;
  since?: string;
}

export async function runLogs(ctx: CliContext, podArg: string, o: LogsOptions): Promise<number> {
  const pod = await resolvePod(ctx, podArg);
  const container = chooseContainer(ctx, pod, o.container);
  const tail = Number(o.tail);
  if (Number.isNaN(tail)) throw new CliError(`error: invalid argument "${o.tail}" for "--tail" flag`);
  const query: Record<string, string> = { container };
  if (o.follow) query.follow = "true";
  if (tail >= 0) query.tailLines = String(tail);
  if (o.previous) query.previous = "true";
  if (o.timestamps) query.timestamps = "true";
  if (o.since) query.sinceSeconds = String(Math.max(1, Math.ceil(parseDuration(o.since) / 1000)));
  const path = resourcePath(podsInfo(), pod.metadata.namespace, pod.metadata.name, "log");
  const res = await ctx.client.request("GET", path, { query, bodyTimeout: 0 });
  await ensureOk(res);
  for await (const chunk of res.body) {
    if (!ctx.io.out.write(chunk as Buffer)) await new Promise((r) => ctx.io.out.once("drain", r));
  }
  return 0;
}
