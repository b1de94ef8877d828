// The host's network settings kube-proxy needs besides its rules (DESIGN.md section 6):
// - the whole service range routed to lo (`ip route replace local <range> dev lo table local`),
//   before any rule, so that a packet to a cluster IP that no rule rewrote is answered or refused
//   on the machine instead of following the default route off it (upstream's ipvs mode gets the
//   same from binding service IPs to its dummy device);
// - net.ipv4.conf.all.route_localnet=1, so that DNATed packets to 127.0.0.1:<nodePort> may leave
//   lo (with KUBE-FIREWALL guarding the hole, as upstream);
// - net.bridge.bridge-nf-call-iptables=1, so that a pod's reply to another pod on the same
//   bridge passes conntrack and is un-DNATed (upstream sets it too; Docker already has).

import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";

export interface HostNetwork {
  /** Routes cidr to lo in the local table (idempotent). */
  ensureLocalRoute(cidr: string): Promise<void>;
  /** Removes that route; false when it was not there. */
  removeLocalRoute(cidr: string): Promise<boolean>;
  /** Whether the local table routes cidr to lo now. */
  hasLocalRoute(cidr: string): Promise<boolean>;
  /** Writes /proc/sys/<path> (e.g. "net/ipv4/conf/all/route_localnet") unless it holds value already. */
  setSysctl(path: string, value: string): Promise<void>;
  getSysctl(path: string): Promise<string>;
}

function ip(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out, err }));
  });
}

export class ExecHostNetwork implements HostNetwork {
  /**
   * procSys: where the host's /proc/sys is (--proc-sys-dir): a container sees its own read-only
   * /proc/sys, so one in the host's network mounts the host's elsewhere, writable.
   */
  constructor(private readonly procSys = "/proc/sys") {}

  async ensureLocalRoute(cidr: string): Promise<void> {
    const r = await ip(["route", "replace", "local", cidr, "dev", "lo", "table", "local"]);
    if (r.code !== 0) throw new Error(`ip route replace local ${cidr} dev lo table local: ${r.err.trim()}`);
  }

  async removeLocalRoute(cidr: string): Promise<boolean> {
    const r = await ip(["route", "del", "local", cidr, "dev", "lo", "table", "local"]);
    return r.code === 0;
  }

  async hasLocalRoute(cidr: string): Promise<boolean> {
    const r = await ip(["route", "show", "table", "local", "type", "local", "dev", "lo"]);
    if (r.code !== 0) return false;
    return r.out.split("\n").some((l) => l.trim().split(/\s+/)[1] === cidr || l.trim().split(/\s+/)[0] === cidr);
  }

  async setSysctl(path: string, value: string): Promise<void> {
    // Unchanged values are not written: a read-only /proc/sys that already holds them is fine.
    if ((await this.getSysctl(path).catch(() => undefined)) === value) return;
    await writeFile(`${this.procSys}/${path}`, value);
  }

  async getSysctl(path: string): Promise<string> {
    return (await readFile(`${this.procSys}/${path}`, "utf8")).trim();
  }
}

/** isRoot: whether this process may change iptables and routes (root, as upstream's iptables mode needs). */
export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** hostIPv4Addresses: the host's IPv4 addresses, loopback first. */
export function hostIPv4Addresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4") out.push(a.address);
  }
  return out.sort((a, b) => Number(b.startsWith("127.")) - Number(a.startsWith("127.")));
}

/** defaultNodeIP: the first non-loopback IPv4 (what the kubelet reports as InternalIP by default). */
export function defaultNodeIP(): string {
  return hostIPv4Addresses().find((a) => !a.startsWith("127.")) ?? "127.0.0.1";
}
