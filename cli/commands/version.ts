// kubeling version: the client's version and the server's /version.

import type { CliContext } from "../context.js";
import { CLIENT_VERSION } from "../context.js";
import { toJson, toYaml } from "../printers.js";

export async function runVersion(ctx: CliContext, o: { client?: boolean }): Promise<number> {
  const clientVersion = {
    major: CLIENT_VERSION.major,
    minor: CLIENT_VERSION.minor,
    gitVersion: CLIENT_VERSION.gitVersion,
    goVersion: `node${process.versions.node}`,
    compiler: "tsc",
    platform: `${process.platform}/${process.arch}`,
  };
  const serverVersion = o.client ? undefined : await ctx.client.serverVersion({ query: { timeout: "32s" } });
  const output = ctx.opts.output;
  if (output === "json" || output === "yaml") {
    const doc = { clientVersion, ...(serverVersion ? { serverVersion } : {}) };
    ctx.print(output === "json" ? toJson(doc) : toYaml(doc));
    return 0;
  }
  ctx.print(`Client Version: ${clientVersion.gitVersion}\n`);
  if (serverVersion) ctx.print(`Server Version: ${String(serverVersion.gitVersion ?? "unknown")}\n`);
  return 0;
}
