// Service ClusterIP and NodePort allocation (upstream: pkg/registry/core/service/ipallocator and
// portallocator). Uniqueness comes from etcd: an allocation is a create-if-absent key
// `{prefix}/ipallocations/{ip}` or `{prefix}/nodeportallocations/{port}` whose value names the
// service; releasing deletes the key. Two API servers can never hand out the same IP.

import { randomInt } from "node:crypto";
import { type FieldError, fieldInvalid, invalid } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { Storage } from "../../../storage/interfaces.js";

export const DEFAULT_SERVICE_CIDR = "10.96.0.0/12";
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

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

function qualifiedInvalid(name: string, errs: FieldError[]) {
  return invalid("Service", "", name, errs);
}

export class ServiceAllocator {
  readonly cidr: Cidr;
  private readonly ipPrefix: string;
  private readonly portPrefix: string;

  constructor(
    private readonly storage: Storage,
    cidr: string = DEFAULT_SERVICE_CIDR,
  ) {
    this.cidr = parseCidr(cidr);
    this.ipPrefix = `${storage.prefix}/ipallocations/`;
    this.portPrefix = `${storage.prefix}/nodeportallocations/`;
  }

  /** The first address of the range, reserved for the `kubernetes` service in `default`. */
  get kubernetesServiceIP(): string {
    return numberToIp(this.cidr.base + 1);
  }

  /**
   * Allocates `requested` (422 if outside the range or taken) or a random free IP (never the
   * reserved first one). `owner` ("ns/name") is stored for repair and debugging.
   */
  async allocateIP(ownerName: string, serviceName: string, requested?: string): Promise<string> {
    const owner = allocationValue(ownerName);
    if (requested) {
      const field = "spec.clusterIPs";
      if (ipOutOfRange(this.cidr, requested))
        throw qualifiedInvalid(serviceName, [
          fieldInvalid(
            field,
            [requested],
            `failed to allocate IP ${requested}: provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`,
          ),
        ]);
      if (!(await this.storage.createKeyIfAbsent(this.ipPrefix + requested, owner)))
        throw qualifiedInvalid(serviceName, [
          fieldInvalid(field, [requested], `failed to allocate IP ${requested}: provided IP is already allocated`),
        ]);
      return requested;
    }
    // Usable offsets: 2 .. size-2 (network, the reserved .1 and broadcast excluded).
    const first = 2;
    const last = this.cidr.size - 2;
    if (last < first) throw qualifiedInvalid(serviceName, [fieldInvalid("spec.clusterIPs", [], "range is too small")]);
    for (let i = 0; i < 32; i++) {
      const ip = numberToIp(this.cidr.base + randomInt(first, last + 1));
      if (await this.storage.createKeyIfAbsent(this.ipPrefix + ip, owner)) return ip;
    }
    // Crowded range: scan for a hole.
    const taken = new Set((await this.storage.rawList(this.ipPrefix)).map((kv) => kv.key.slice(this.ipPrefix.length)));
    for (let off = first; off <= last; off++) {
      const ip = numberToIp(this.cidr.base + off);
      if (taken.has(ip)) continue;
      if (await this.storage.createKeyIfAbsent(this.ipPrefix + ip, owner)) return ip;
    }
    throw qualifiedInvalid(serviceName, [
      fieldInvalid("spec.clusterIPs", [], `failed to allocate a serviceIP: range is full (${this.cidr.text})`),
    ]);
  }

  async releaseIP(ip: string | undefined): Promise<void> {
    if (!ip || ip === "None" || ipToNumber(ip) === undefined) return;
    await this.storage.deleteKey(this.ipPrefix + ip);
  }

  /** Allocates a node port: the requested one (422 if out of range or taken) or a random free one. */
  async allocateNodePort(ownerName: string, serviceName: string, field: string, requested?: number): Promise<number> {
    const owner = allocationValue(ownerName);
    if (requested) {
      if (!Number.isInteger(requested) || requested < NODE_PORT_MIN || requested > NODE_PORT_MAX)
        throw qualifiedInvalid(serviceName, [
          fieldInvalid(
            field,
            requested,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
          ),
        ]);
      if (!(await this.storage.createKeyIfAbsent(this.portPrefix + requested, owner)))
        throw qualifiedInvalid(serviceName, [fieldInvalid(field, requested, "provided port is already allocated")]);
      return requested;
    }
    for (let i = 0; i < 32; i++) {
      const port = randomInt(NODE_PORT_MIN, NODE_PORT_MAX + 1);
      if (await this.storage.createKeyIfAbsent(this.portPrefix + port, owner)) return port;
    }
    const taken = new Set(
      (await this.storage.rawList(this.portPrefix)).map((kv) => kv.key.slice(this.portPrefix.length)),
    );
    for (let port = NODE_PORT_MIN; port <= NODE_PORT_MAX; port++) {
      if (taken.has(String(port))) continue;
      if (await this.storage.createKeyIfAbsent(this.portPrefix + port, owner)) return port;
    }
    throw qualifiedInvalid(serviceName, [fieldInvalid(field, 0, "range is full")]);
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
      if (await this.storage.createKeyIfAbsent(this.portPrefix + port, allocationValue(owner, now)))
        result.restoredPorts.push(port);
    return result;
  }
}
