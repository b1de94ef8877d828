// The iptables binaries, as upstream's pkg/util/iptables: iptables-save to read a table,
// iptables-restore --noflush to change only the chains named in its input, atomically (one
// nf_tables transaction with Debian's default iptables-nft, one table replace with legacy).
// Both backends coexist with Docker's own rules, which kubeling never touches: it writes only
// chains of its own and the jumps into them. A fake (fake.ts) stands in for unit tests.

import { spawn } from "node:child_process";

export type Table = "nat" | "filter";

export interface Iptables {
  /** iptables-save -t table. */
  save(table: Table): Promise<string>;
  /** iptables-restore --noflush with input (both tables may be in it). */
  restore(input: string): Promise<void>;
  /** `iptables -V`, e.g. "iptables v1.8.9 (nf_tables)". */
  version(): Promise<string>;
}

export class IptablesError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.on("error", (e) => reject(new IptablesError(`${cmd}: ${e.message}`, "")));
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new IptablesError(`${cmd} ${args.join(" ")} exited ${code}: ${err.trim()}`, err));
    });
    if (child.stdin) {
      // A command that fails early closes its stdin: its exit status tells what happened.
      child.stdin.on("error", () => undefined);
      child.stdin.end(input);
    }
  });
}

/** The real binaries (on PATH: /usr/sbin). `-w` waits for the xtables lock legacy iptables takes. */
export class ExecIptables implements Iptables {
  readonly #bin: string;

  constructor(o: { binary?: string } = {}) {
    this.#bin = o.binary ?? "iptables";
  }

  save(table: Table): Promise<string> {
    return run(`${this.#bin}-save`, ["-t", table]);
  }

  async restore(input: string): Promise<void> {
    try {
      await run(`${this.#bin}-restore`, ["-w", "5", "--noflush"], input);
    } catch (err) {
      if (err instanceof IptablesError) {
        // iptables-restore names the failing line: show it, it is the one thing worth reading.
        const m = /line (\d+) failed/.exec(err.stderr) ?? /line:? (\d+)/.exec(err.stderr);
        const line = m ? input.split("\n")[Number(m[1]) - 1] : undefined;
        throw new IptablesError(`${err.message}${line ? ` (line: ${line})` : ""}`, err.stderr);
      }
      throw err;
    }
  }

  async version(): Promise<string> {
    return (await run(this.#bin, ["-V"])).trim();
  }
}

/** A table as iptables-save prints it: chains, and each rule line with its chain and jump target. */
export interface SavedTable {
  chains: Set<string>;
  rules: Array<{ chain: string; line: string; target?: string }>;
}

/** parseSave reads iptables-save output (one table, or several: rules of all are merged). */
export function parseSave(text: string): SavedTable {
  const chains = new Set<string>();
  const rules: SavedTable["rules"] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) {
      const name = line.slice(1).split(" ")[0];
      if (name) chains.add(name);
    } else if (line.startsWith("-A ")) {
      const chain = line.split(" ")[1] ?? "";
      const m = / -[jg] (\S+)/.exec(line);
      rules.push({ chain, line, ...(m?.[1] ? { target: m[1] } : {}) });
    }
  }
  return { chains, rules };
}

/**
 * reachableChains: roots and every chain their rules jump or go to, transitively: the chains of
 * one cluster, since nothing else jumps into them (chains.ts).
 */
export function reachableChains(t: SavedTable, roots: readonly string[]): Set<string> {
  const byChain = new Map<string, string[]>();
  for (const r of t.rules) {
    if (!r.target) continue;
    const list = byChain.get(r.chain) ?? [];
    list.push(r.target);
    byChain.set(r.chain, list);
  }
  const seen = new Set<string>();
  const todo = roots.filter((r) => t.chains.has(r));
  while (todo.length > 0) {
    const c = todo.pop() as string;
    if (seen.has(c)) continue;
    seen.add(c);
    for (const next of byChain.get(c) ?? []) if (t.chains.has(next) && !seen.has(next)) todo.push(next);
  }
  return seen;
}

/** The built-in chains of the tables kubeling writes to. */
export const BUILTIN_CHAINS = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);
