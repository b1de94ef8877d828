// The iptables proxier: every sync reads the cluster's chains back (iptables-save), generates the
// whole desired content (rules.ts) and installs it with one `iptables-restore --noflush`: rules,
// stale per-service chains deleted, and any missing jump from a built-in chain, in one
// transaction. The service range's local route is made before the first rule (host.ts).
// cleanup() removes every chain of the cluster (both modes'), the jumps into them and the route.

import type { Logger } from "#pkg/runtime/log.js";
import type { HostNetwork } from "../host.js";
import type { ProxyState } from "../model.js";
import { type ChainNames, topLevelChains } from "./chains.js";
import { runConntrack, staleFlowDeletions, type UdpEndpoints, udpEndpoints } from "./conntrack.js";
import { BUILTIN_CHAINS, type Iptables, parseSave, reachableChains, type SavedTable, type Table } from "./iptables.js";
import { generateRules, type JumpRule, jumpRules, type RuleConfig } from "./rules.js";

export interface SyncResult {
  /** Rules written per table. */
  ruleCount: Record<Table, number>;
}

/** The sysctls both proxiers set before their first rule. */
export async function prepareHost(host: HostNetwork, serviceCIDRs: readonly string[], log: Logger): Promise<void> {
  for (const cidr of serviceCIDRs) await host.ensureLocalRoute(cidr);
  await host.setSysctl("net/ipv4/conf/all/route_localnet", "1");
  try {
    await host.setSysctl("net/bridge/bridge-nf-call-iptables", "1");
  } catch (err) {
    log.warn(
      { err },
      "cannot set net.bridge.bridge-nf-call-iptables=1: pod-to-pod service traffic on one bridge may fail",
    );
  }
}

/** The rule line of a jump as iptables-save prints it (without the leading "-A chain"). */
function jumpSpec(j: JumpRule): string {
  return `${j.args.join(" ")}${j.args.length ? " " : ""}-j ${j.to}`;
}

/** missingJumps: the "-I" lines for jumps not in the saved table. */
export function missingJumps(saved: SavedTable, jumps: readonly JumpRule[]): string[] {
  const out: string[] = [];
  for (const j of jumps) {
    const present = saved.rules.some((r) => r.chain === j.from && r.target === j.to);
    if (!present) out.push(`-I ${j.from} 1 ${jumpSpec(j)}`);
  }
  return out;
}

/** Inserts lines just before a table's COMMIT. */
export function beforeCommit(tableText: string, lines: readonly string[]): string {
  if (lines.length === 0) return tableText;
  const i = tableText.lastIndexOf("COMMIT");
  return `${tableText.slice(0, i)}${lines.join("\n")}\n${tableText.slice(i)}`;
}

/**
 * cleanupInput: the restore input that removes a cluster's chains (those reachable from its
 * top-level chains, of either mode) and every jump into them from the built-in chains; empty
 * when there is nothing to remove.
 */
export function cleanupInput(saved: Record<Table, SavedTable>, chains: ChainNames): string {
  const top = topLevelChains(chains);
  let text = "";
  for (const table of ["filter", "nat"] as const) {
    const owned = reachableChains(saved[table], top[table]);
    if (owned.size === 0) continue;
    const lines = [`*${table}`];
    for (const c of owned) lines.push(`:${c} - [0:0]`);
    for (const r of saved[table].rules) {
      if (BUILTIN_CHAINS.has(r.chain) && r.target && owned.has(r.target)) lines.push(`-D ${r.line.slice(3)}`);
    }
    for (const c of owned) lines.push(`-X ${c}`);
    lines.push("COMMIT");
    text += `${lines.join("\n")}\n`;
  }
  return text;
}

export async function readTables(ipt: Iptables): Promise<Record<Table, SavedTable>> {
  const [filter, nat] = await Promise.all([ipt.save("filter"), ipt.save("nat")]);
  return { filter: parseSave(filter), nat: parseSave(nat) };
}

/** cleanupChains: removes the cluster's chains and jumps; true when something was removed. */
export async function cleanupChains(ipt: Iptables, chains: ChainNames): Promise<boolean> {
  const input = cleanupInput(await readTables(ipt), chains);
  if (!input) return false;
  await ipt.restore(input);
  return true;
}

export interface IptablesProxierOptions {
  iptables: Iptables;
  host: HostNetwork;
  rules: RuleConfig;
  serviceCIDRs: readonly string[];
  log: Logger;
  /** Deletes conntrack entries (default: the conntrack tool). */
  conntrack?: (args: string[]) => Promise<boolean>;
}

export class IptablesProxier {
  readonly mode = "iptables";
  readonly #o: IptablesProxierOptions;
  #prepared = false;
  #udp: UdpEndpoints = new Map();
  #conntrackMissing = false;

  constructor(o: IptablesProxierOptions) {
    this.#o = o;
  }

  get chains(): ChainNames {
    return this.#o.rules.chains;
  }

  /** sync installs state; throws when iptables refuses (the caller retries). */
  async sync(state: ProxyState): Promise<SyncResult> {
    const o = this.#o;
    if (!this.#prepared) {
      // The route first: no rule may exist while the range could still route off the machine.
      await prepareHost(o.host, o.serviceCIDRs, o.log);
      this.#prepared = true;
    }
    const saved = await readTables(o.iptables);
    const top = topLevelChains(o.rules.chains);
    const existing = {
      nat: reachableChains(saved.nat, top.nat),
      filter: reachableChains(saved.filter, top.filter),
    };
    // The userspace mode's chains (a restart in the other mode) go too.
    const userspace = [o.rules.chains.portalsContainer, o.rules.chains.portalsHost].filter((c) =>
      saved.nat.chains.has(c),
    );
    const generated = generateRules(state, o.rules, existing);
    const jumps = jumpRules(o.rules.chains);
    const stale = userspaceRemoval(saved.nat, userspace);
    const filterText = beforeCommit(
      generated.filter,
      missingJumps(
        saved.filter,
        jumps.filter((j) => j.table === "filter"),
      ),
    );
    const natText = beforeCommit(generated.nat, [
      ...missingJumps(
        saved.nat,
        jumps.filter((j) => j.table === "nat"),
      ),
      ...stale,
    ]);
    await o.iptables.restore(filterText + natText);
    await this.#cleanStaleUdp(state);
    return { ruleCount: generated.ruleCount };
  }

  /** After the rules changed: UDP flows still pointing at endpoints that left (conntrack.ts). */
  async #cleanStaleUdp(state: ProxyState): Promise<void> {
    const cur = udpEndpoints(state, this.#o.rules.hostname);
    const deletions = staleFlowDeletions(this.#udp, cur);
    this.#udp = cur;
    if (this.#conntrackMissing) return;
    const run = this.#o.conntrack ?? runConntrack;
    for (const args of deletions) {
      if (!(await run(args))) {
        this.#conntrackMissing = true;
        this.#o.log.warn("no conntrack tool (Debian: conntrack): stale UDP flows are not cleared");
        return;
      }
    }
  }

  async cleanup(): Promise<void> {
    await cleanupChains(this.#o.iptables, this.#o.rules.chains);
    for (const cidr of this.#o.serviceCIDRs) await this.#o.host.removeLocalRoute(cidr);
  }
}

/** The lines removing another mode's chains (and their jumps) inside a nat restore. */
export function userspaceRemoval(nat: SavedTable, chains: readonly string[]): string[] {
  if (chains.length === 0) return [];
  const set = new Set(chains);
  const lines: string[] = [];
  for (const r of nat.rules)
    if (BUILTIN_CHAINS.has(r.chain) && r.target && set.has(r.target)) lines.push(`-D ${r.line.slice(3)}`);
  for (const c of chains) lines.push(`-F ${c}`, `-X ${c}`);
  return lines;
}
