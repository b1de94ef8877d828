// Service ClusterIP and NodePort allocation (upstream: pkg/registry/core/service/ipallocator and
// portallocator). Uniqueness comes from etcd: an allocation is a create-if-absent key
// `{prefix}/ipallocations/{ip}` or `{prefix}/nodeportallocations/{port}` whose value names the
// service; releasing deletes the key. Two API servers can never hand out the same IP.

import { randomInt } from "node:crypto";
import type { KubeObject } from "#pkg/api/meta.js";
import type { Storage } from "../../../storage/interfaces.js";

export const DEFAULT_SERVICE_CIDR = "10.96.0.0/12";
/** --service-node-port-range's default, as upstream's. */
export const DEFAULT_NODE_PORT_RANGE = "30000-32767";

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  bits: number;
  size: number;
  text: string;
}

export function ipToNumber(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function numberToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function parseCidr(text: string): Cidr {
  const [ip = "", bitsText = ""] = text.split("/");
  const base = ipToNumber(ip);
  const bits = Number(bitsText);
  if (base === undefined || !/^\d+$/.test(bitsText) || bits < 8 || bits > 30)
    throw new Error(`invalid service cluster IP range ${JSON.stringify(text)}: want an IPv4 CIDR between /8 and /30`);
  const size = 2 ** (32 - bits);
  const network = base - (base % size);
  return { base: network, bits, size, text: `${numberToIp(network)}/${bits}` };
}

/** A range of node ports, both ends included. */
export interface PortRange {
  base: number;
  size: number;
}

export function portRangeText(r: PortRange): string {
  return `${r.base}-${r.base + r.size - 1}`;
}

/**
 * parsePortRange: upstream's utilnet.ParsePortRange: "30000-32767", "30000+2767" (base plus
 * offset) or a single port.
 */
export function parsePortRange(text: string): PortRange {
  const bad = (why: string) => new Error(`unable to parse port range: ${text}: ${why}`);
  const t = text.trim();
  if (t === "") throw bad("empty string");
  const m = /^(\d+)(?:([-+])(\d+))?$/.exec(t);
  if (!m) throw bad("want <low>-<high> or <base>+<offset>");
  const low = Number(m[1]);
  const other = m[3] === undefined ? undefined : Number(m[3]);
  const high = other === undefined ? low : m[2] === "+" ? low + other : other;
  if (low < 1 || high > 65535) throw bad("ports must be between 1 and 65535");
  if (high < low) throw bad("end port is less than start port");
  return { base: low, size: high - low + 1 };
}

/** Why an IP cannot be used, or undefined when it lies in the allocatable part of the range. */
export function ipOutOfRange(cidr: Cidr, ip: string): boolean {
  const n = ipToNumber(ip);
  // The network and broadcast addresses are never handed out.
  return n === undefined || n <= cidr.base || n >= cidr.base + cidr.size - 1;
}

export interface ServicePortLike {
  name?: string;
  port?: number;
  protocol?: string;
  nodePort?: number;
}

/** An allocation key's value: the owning service and when it was taken (repair spares young ones). */
export function allocationValue(owner: string, now = Date.now()): string {
  return JSON.stringify({ owner, time: now });
}

export function parseAllocationValue(v: string): { owner: string; time: number } {
  try {
    const p = JSON.parse(v) as { owner?: unknown; time?: unknown };
    return { owner: typeof p.owner === "string" ? p.owner : "", time: typeof p.time === "number" ? p.time : 0 };
  } catch {
    return { owner: v, time: 0 };
  }
}

export interface RepairResult {
  releasedIPs: string[];
  releasedPorts: number[];
  restoredIPs: string[];
  restoredPorts: number[];
}

/**
 * AllocationError: why an allocator refused, in upstream's words (ipallocator's and
 * portallocator's ErrAllocated, ErrNotInRange, ErrFull); the service storage puts them into
 * field errors as upstream's REST does.
 */
export class AllocationError extends Error {
  constructor(
    readonly reason: "allocated" | "notInRange" | "full",
    message: string,
  ) {
    super(message);
    this.name = "AllocationError";
  }
}

export interface ServiceAllocatorOptions {
  /** --service-cluster-ip-range (default 10.96.0.0/12). */
  cidr?: string;
  /** --service-node-port-range (default 30000-32767). */
  nodePortRange?: string;
}

export class ServiceAllocator {
  readonly cidr: Cidr;
  readonly nodePorts: PortRange;
  private readonly ipPrefix: string;
  private readonly portPrefix: string;

  constructor(
    private readonly storage: Storage,
    o: ServiceAllocatorOptions = {},
  ) {
    this.cidr = parseCidr(o.cidr ?? DEFAULT_SERVICE_CIDR);
    this.nodePorts = parsePortRange(o.nodePortRange ?? DEFAULT_NODE_PORT_RANGE);
    this.ipPrefix = `${storage.prefix}/ipallocations/`;
    this.portPrefix = `${storage.prefix}/nodeportallocations/`;
  }

  /** The first address of the range, reserved for the `kubernetes` service in `default`. */
  get kubernetesServiceIP(): string {
    return numberToIp(this.cidr.base + 1);
  }

  /**
   * Allocates `requested`, or a random free IP (never the reserved first one) when it is
   * undefined; `owner` ("ns/name") is stored for repair and debugging. Throws AllocationError.
   * A dry run checks without keeping anything.
   */
  async allocateIP(owner: string, requested?: string, o: { dryRun?: boolean } = {}): Promise<string> {
    const value = allocationValue(owner);
    if (requested !== undefined) {
      if (ipOutOfRange(this.cidr, requested))
        throw new AllocationError(
          "notInRange",
          `the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`,
        );
      const key = this.ipPrefix + requested;
      if (o.dryRun ? await this.storage.rawExists(key) : !(await this.storage.createKeyIfAbsent(key, value)))
        throw new AllocationError("allocated", "provided IP is already allocated");
      return requested;
    }
    // Usable offsets: 2 .. size-2 (network, the reserved .1 and broadcast excluded).
    const first = 2;
    const last = this.cidr.size - 2;
    const tryIP = async (ip: string) =>
      o.dryRun
        ? !(await this.storage.rawExists(this.ipPrefix + ip))
        : this.storage.createKeyIfAbsent(this.ipPrefix + ip, value);
    if (last >= first) {
      for (let i = 0; i < 32; i++) {
        const ip = numberToIp(this.cidr.base + randomInt(first, last + 1));
        if (await tryIP(ip)) return ip;
      }
      // Crowded range: scan for a hole.
      const taken = new Set(
        (await this.storage.rawList(this.ipPrefix)).map((kv) => kv.key.slice(this.ipPrefix.length)),
      );
      for (let off = first; off <= last; off++) {
        const ip = numberToIp(this.cidr.base + off);
        if (!taken.has(ip) && (await tryIP(ip))) return ip;
      }
    }
    throw new AllocationError("full", "range is full");
  }

  async releaseIP(ip: string | undefined): Promise<void> {
    if (!ip || ip === "None" || ipToNumber(ip) === undefined) return;
    await this.storage.deleteKey(this.ipPrefix + ip);
  }

  /** Allocates a node port: `requested`, or a random free one when undefined. Throws AllocationError. */
  async allocateNodePort(owner: string, requested?: number, o: { dryRun?: boolean } = {}): Promise<number> {
    const value = allocationValue(owner);
    const { base, size } = this.nodePorts;
    const tryPort = async (port: number) =>
      o.dryRun
        ? !(await this.storage.rawExists(this.portPrefix + port))
        : this.storage.createKeyIfAbsent(this.portPrefix + port, value);
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < base || requested >= base + size)
        throw new AllocationError(
          "notInRange",
          `provided port is not in the valid range. The range of valid ports is ${portRangeText(this.nodePorts)}`,
        );
      if (!(await tryPort(requested))) throw new AllocationError("allocated", "provided port is already allocated");
      return requested;
    }
    for (let i = 0; i < 32; i++) {
      const port = randomInt(base, base + size);
      if (await tryPort(port)) return port;
    }
    const taken = new Set(
      (await this.storage.rawList(this.portPrefix)).map((kv) => kv.key.slice(this.portPrefix.length)),
    );
    for (let port = base; port < base + size; port++) {
      if (!taken.has(String(port)) && (await tryPort(port))) return port;
    }
    throw new AllocationError("full", "range is full");
  }

  async releaseNodePort(port: number | undefined): Promise<void> {
    if (!port) return;
    await this.storage.deleteKey(this.portPrefix + port);
  }

  /** Current allocations: IP or port -> owning service ("ns/name"). */
  async allocatedIPs(): Promise<Map<string, string>> {
    return new Map(
      (await this.storage.rawList(this.ipPrefix)).map((kv) => [
        kv.key.slice(this.ipPrefix.length),
        parseAllocationValue(kv.value).owner,
      ]),
    );
  }

  async allocatedNodePorts(): Promise<Map<number, string>> {
    return new Map(
      (await this.storage.rawList(this.portPrefix)).map((kv) => [
        Number(kv.key.slice(this.portPrefix.length)),
        parseAllocationValue(kv.value).owner,
      ]),
    );
  }

  /**
   * Reconciles allocations with the services that exist (upstream's repair controllers): frees
   * allocations no service uses (older than minAgeMs, so in-flight creates are spared) and
   * re-records IPs/ports that services use but that have no allocation key (e.g. after a restore).
   */
  async repair(services: readonly KubeObject[], minAgeMs = 60_000, now = Date.now()): Promise<RepairResult> {
    const result: RepairResult = { releasedIPs: [], releasedPorts: [], restoredIPs: [], restoredPorts: [] };
    const usedIPs = new Map<string, string>();
    const usedPorts = new Map<number, string>();
    for (const svc of services) {
      const owner = svc.metadata.namespace
        ? `${svc.metadata.namespace}/${svc.metadata.name ?? ""}`
        : (svc.metadata.name ?? "");
      const spec = (svc as { spec?: { clusterIP?: string; clusterIPs?: string[]; ports?: ServicePortLike[] } }).spec;
      for (const ip of new Set([spec?.clusterIP, ...(spec?.clusterIPs ?? [])]))
        if (ip && ip !== "None" && ipToNumber(ip) !== undefined) usedIPs.set(ip, owner);
      for (const p of spec?.ports ?? []) if (p.nodePort) usedPorts.set(p.nodePort, owner);
    }
    for (const kv of await this.storage.rawList(this.ipPrefix)) {
      const ip = kv.key.slice(this.ipPrefix.length);
      if (usedIPs.has(ip)) continue;
      if (now - parseAllocationValue(kv.value).time < minAgeMs) continue;
      if (await this.storage.deleteKeyIfValue(kv.key, kv.value)) result.releasedIPs.push(ip);
    }
    for (const kv of await this.storage.rawList(this.portPrefix)) {
      const port = Number(kv.key.slice(this.portPrefix.length));
      if (usedPorts.has(port)) continue;
      if (now - parseAllocationValue(kv.value).time < minAgeMs) continue;
      if (await this.storage.deleteKeyIfValue(kv.key, kv.value)) result.releasedPorts.push(port);
    }
    for (const [ip, owner] of usedIPs)
      if (
        !ipOutOfRange(this.cidr, ip) &&
        (await this.storage.createKeyIfAbsent(this.ipPrefix + ip, allocationValue(owner, now)))
      )
        result.restoredIPs.push(ip);
    for (const [port, owner] of usedPorts)
      if (
        port >= this.nodePorts.base &&
        port < this.nodePorts.base + this.nodePorts.size &&
        (await this.storage.createKeyIfAbsent(this.portPrefix + port, allocationValue(owner, now)))
      )
        result.restoredPorts.push(port);
    return result;
  }
}
