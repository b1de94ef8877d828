// kubeling config view|current-context|use-context|get-contexts: reading and editing the
// kubeconfig file kubectl would use (--kubeconfig, else $KUBECONFIG, else ~/.kube/config).

import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";
import { kubeconfigPath } from "#pkg/client/kubeconfig.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { toJson, toYaml } from "../printers.js";
import { GET_TABWRITER, TabWriter } from "../tabwriter.js";

type Named<T> = { name?: string } & T;
interface Kubeconfig {
  apiVersion?: string;
  kind?: string;
  preferences?: Record<string, unknown>;
  clusters?: Array<Named<{ cluster?: Record<string, unknown> }>>;
  users?: Array<Named<{ user?: Record<string, unknown> }>>;
  contexts?: Array<Named<{ context?: { cluster?: string; user?: string; namespace?: string } }>>;
  "current-context"?: string;
  [k: string]: unknown;
}

function read(path: string, mustExist: boolean): Kubeconfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (!mustExist) return {};
    throw new CliError(`error: cannot read kubeconfig ${path}: ${(err as Error).message}`);
  }
  try {
    return (parse(text) ?? {}) as Kubeconfig;
  } catch (err) {
    throw new CliError(`error: error loading config file "${path}": ${(err as Error).message}`);
  }
}

const DATA_FIELDS = ["certificate-authority-data", "client-certificate-data", "client-key-data"];
const SECRET_FIELDS = ["token", "password"];

/** kubectl's redaction: DATA+OMITTED for byte data, REDACTED for secrets. */
export function redact(cfg: Kubeconfig): Kubeconfig {
  const copy = structuredClone(cfg);
  const scrub = (o: Record<string, unknown> | undefined) => {
    if (!o) return;
    for (const k of DATA_FIELDS) if (k in o) o[k] = "DATA+OMITTED";
    for (const k of SECRET_FIELDS) if (k in o) o[k] = "REDACTED";
  };
  for (const c of copy.clusters ?? []) scrub(c.cluster);
  for (const u of copy.users ?? []) scrub(u.user);
  return copy;
}

function minify(cfg: Kubeconfig): Kubeconfig {
  const current = cfg["current-context"];
  const ctx = cfg.contexts?.find((c) => c.name === current);
  if (!ctx) throw new CliError("error: current-context must exist in order to minify");
  return {
    ...cfg,
    contexts: [ctx],
    clusters: (cfg.clusters ?? []).filter((c) => c.name === ctx.context?.cluster),
    users: (cfg.users ?? []).filter((u) => u.name === ctx.context?.user),
  };
}

export async function runConfig(
  ctx: CliContext,
  sub: "view" | "current-context" | "use-context" | "get-contexts",
  args: string[],
  o: { raw?: boolean; minify?: boolean },
): Promise<number> {
  const path = kubeconfigPath(ctx.opts.kubeconfig);
  switch (sub) {
    case "view": {
      let cfg = read(path, false);
      cfg = {
        apiVersion: cfg.apiVersion ?? "v1",
        clusters: cfg.clusters ?? null,
        contexts: cfg.contexts ?? null,
        "current-context": cfg["current-context"] ?? "",
        kind: cfg.kind ?? "Config",
        preferences: cfg.preferences ?? {},
        users: cfg.users ?? null,
      } as unknown as Kubeconfig;
      if (o.minify) cfg = minify(cfg);
      if (!o.raw) cfg = redact(cfg);
      ctx.print(ctx.opts.output === "json" ? toJson(cfg) : toYaml(cfg));
      return 0;
    }
    case "current-context": {
      const cfg = read(path, false);
      const current = ctx.opts.context ?? cfg["current-context"];
      if (!current) throw new CliError("error: current-context is not set");
      ctx.print(`${current}\n`);
      return 0;
    }
    case "use-context": {
      const name = args[0] ?? "";
      const cfg = read(path, true);
      if (!cfg.contexts?.some((c) => c.name === name)) {
        throw new CliError(`error: no context exists with the name: "${name}"`);
      }
      cfg["current-context"] = name;
      writeFileSync(path, toYaml(cfg), { mode: 0o600 });
      ctx.print(`Switched to context "${name}".\n`);
      return 0;
    }
    case "get-contexts": {
      const cfg = read(path, false);
      const current = ctx.opts.context ?? cfg["current-context"];
      let contexts = cfg.contexts ?? [];
      if (args[0]) {
        contexts = contexts.filter((c) => c.name === args[0]);
        if (contexts.length === 0) throw new CliError(`error: context ${args[0]} not found`);
      }
      if (ctx.opts.output === "name") {
        for (const c of contexts) ctx.print(`${c.name ?? ""}\n`);
        return 0;
      }
      const w = new TabWriter({ ...GET_TABWRITER, rememberWidths: false });
      w.write("CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE\n");
      for (const c of contexts) {
        w.write(
          `${c.name === current ? "*" : ""}\t${c.name ?? ""}\t${c.context?.cluster ?? ""}\t${c.context?.user ?? ""}\t${c.context?.namespace ?? ""}\n`,
        );
      }
      ctx.print(w.flush());
      return 0;
    }
  }
}
