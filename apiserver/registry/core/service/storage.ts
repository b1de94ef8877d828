// The service REST storage's part beyond the generic store (upstream:
// pkg/registry/core/service/storage/alloc.go and transaction.go): the IP family fields are
// defaulted for this single-stack IPv4 cluster, ClusterIPs, NodePorts and the health-check node
// port are allocated before a service is stored, and whatever the stored object no longer uses
// (a failed or dry-run write, a type change, a removed port, a deletion) is released afterwards.
// The strategy has already kept allocated values an update left out (patchAllocatedValues) and
// dropped those a type change no longer needs (dropTypeDependentFields).

import { fieldInvalid, goSlice, internalError, invalid } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { Service, ServiceSpec } from "#pkg/api/types/core.js";
import type { RequestContext, StoreHooks, WriteTransaction } from "../../store.js";
import { AllocationError, type ServiceAllocator } from "./allocator.js";
import { needsHealthCheckNodePort, serviceNodePorts, shouldAllocateNodePorts, usesNodePorts } from "./helpers.js";

function ownerKey(ns: string | undefined, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

function serviceIPs(obj: KubeObject | undefined): string[] {
  const spec = (obj as Service | undefined)?.spec;
  if (!spec) return [];
  const ips = new Set<string>();
  if (spec.clusterIP && spec.clusterIP !== "None") ips.add(spec.clusterIP);
  for (const ip of spec.clusterIPs ?? []) if (ip && ip !== "None") ips.add(ip);
  return [...ips];
}

/** The hooks of the services store. */
export function serviceStorageHooks(alloc: ServiceAllocator): StoreHooks {
  return {
    begin: (ctx) => new AllocationTransaction(alloc, ctx),
    async afterDelete(obj) {
      for (const ip of serviceIPs(obj)) await alloc.releaseIP(ip);
      for (const p of serviceNodePorts(obj as Service)) await alloc.releaseNodePort(p);
    },
  };
}

const isHeadless = (spec: ServiceSpec) => spec.clusterIP === "None" || spec.clusterIPs?.[0] === "None";

/**
 * initIPFamilyFields (upstream Allocators.initIPFamilyFields) on a cluster with one family,
 * IPv4: ipFamilyPolicy defaults to the old object's, or RequireDualStack for a headless service
 * without a selector, else SingleStack; ipFamilies to IPv4 (plus IPv6 for a headless service
 * that is not SingleStack, which validation lets through). Dual stack is refused otherwise.
 */
export function initIPFamilyFields(svc: Service, old: Service | undefined): void {
  const spec = svc.spec;
  if (!spec || spec.type === "ExternalName") return;
  const name = svc.metadata.name ?? "";
  const selectorless = Object.keys(spec.selector ?? {}).length === 0;
  const headlessSelectorless = spec.clusterIP === "None" && selectorless;
  if (spec.ipFamilyPolicy === undefined) {
    const oldPolicy = old?.spec?.type !== "ExternalName" ? old?.spec?.ipFamilyPolicy : undefined;
    spec.ipFamilyPolicy = oldPolicy ?? (headlessSelectorless ? "RequireDualStack" : "SingleStack");
  }
  const errs = [];
  const policy = spec.ipFamilyPolicy;
  if (policy === "SingleStack") {
    if ((spec.clusterIPs ?? []).length === 2)
      errs.push(
        fieldInvalid(
          "spec.ipFamilyPolicy",
          policy,
          "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified",
        ),
      );
    if ((spec.ipFamilies ?? []).length === 2)
      errs.push(
        fieldInvalid(
          "spec.ipFamilyPolicy",
          policy,
          "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified",
        ),
      );
  }
  // Infer ipFamilies from the clusterIPs given.
  const clusterIPs = spec.clusterIPs ?? [];
  for (let i = 0; i < clusterIPs.length; i++) {
    const ip = clusterIPs[i] ?? "";
    if (ip === "None") break;
    const family = ip.includes(":") ? "IPv6" : "IPv4";
    if (i >= (spec.ipFamilies ?? []).length) {
      if (family !== "IPv4")
        errs.push(
          fieldInvalid(`spec.clusterIPs[${i}]`, goSlice(clusterIPs), `${family} is not configured on this cluster`),
        );
      else spec.ipFamilies = [...(spec.ipFamilies ?? []), family];
    }
  }
  if (errs.length > 0) throw invalid("Service", "", name, errs);
  if (headlessSelectorless) {
    if (!spec.ipFamilies?.length) spec.ipFamilies = ["IPv4"];
    if (spec.ipFamilies.length < 2 && policy !== "SingleStack")
      spec.ipFamilies = [...spec.ipFamilies, spec.ipFamilies[0] === "IPv4" ? "IPv6" : "IPv4"];
    return;
  }
  if (policy === "RequireDualStack")
    errs.push(fieldInvalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services"));
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (f !== "IPv4") errs.push(fieldInvalid(`spec.ipFamilies[${i}]`, f, "not configured on this cluster"));
  });
  if (errs.length > 0) throw invalid("Service", "", name, errs);
  if (!spec.ipFamilies?.length) spec.ipFamilies = ["IPv4"];
}

/** The allocations made during one service write, released again if they end up unused. */
class AllocationTransaction implements WriteTransaction {
  private readonly ips: string[] = [];
  private readonly ports: number[] = [];

  constructor(
    private readonly alloc: ServiceAllocator,
    private readonly ctx: RequestContext,
  ) {}

  async beforeCreate(namespace: string | undefined, obj: KubeObject): Promise<void> {
    const svc = obj as Service;
    svc.spec ??= {};
    const spec = svc.spec;
    const name = obj.metadata.name ?? "";
    const owner = ownerKey(namespace, name);
    initIPFamilyFields(svc, undefined);
    if (spec.type !== "ExternalName" && !isHeadless(spec)) {
      let requested = spec.clusterIPs?.[0] || spec.clusterIP || undefined;
      // The bootstrap controller's `kubernetes` service takes the range's first address.
      if (!requested && namespace === "default" && name === "kubernetes") requested = this.alloc.kubernetesServiceIP;
      const ip = await this.allocIP(owner, name, spec, requested);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    if (usesNodePorts(spec.type)) await this.initNodePorts(owner, name, spec);
    if (needsHealthCheckNodePort(spec)) await this.allocHealthCheckNodePort(owner, spec, undefined);
  }

  async beforeUpdate(namespace: string | undefined, next: KubeObject, old: KubeObject): Promise<void> {
    const svc = next as Service;
    svc.spec ??= {};
    const spec = svc.spec;
    const oldSpec = (old as Service).spec ?? {};
    const name = next.metadata.name ?? "";
    const owner = ownerKey(namespace, name);
    initIPFamilyFields(svc, old as Service);
    // ExternalName to a type with a ClusterIP: allocate as a create would (upstream's case A).
    // Every other change of clusterIP is validation's to refuse; what is released goes at commit.
    if (oldSpec.type === "ExternalName" && spec.type !== "ExternalName" && !isHeadless(spec)) {
      const ip = await this.allocIP(owner, name, spec, spec.clusterIPs?.[0] || spec.clusterIP || undefined);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    if (usesNodePorts(spec.type)) await this.updateNodePorts(owner, name, spec, oldSpec);
    if (needsHealthCheckNodePort(spec))
      await this.allocHealthCheckNodePort(
        owner,
        spec,
        needsHealthCheckNodePort(oldSpec) ? oldSpec.healthCheckNodePort : undefined,
      );
  }

  /** Frees what the stored object no longer uses (all of this write's allocations when nothing was stored). */
  async commit(
    res: { obj: KubeObject; written: boolean; deleted: boolean },
    previous: KubeObject | undefined,
  ): Promise<void> {
    if (this.ctx.dryRun) return;
    if (!res.written) {
      await this.revert();
      return;
    }
    const keepIPs = new Set(res.deleted ? [] : serviceIPs(res.obj));
    const keepPorts = new Set(res.deleted ? [] : serviceNodePorts(res.obj as Service));
    const ips = new Set([...this.ips, ...serviceIPs(previous)]);
    const ports = new Set([...this.ports, ...(previous ? serviceNodePorts(previous as Service) : [])]);
    for (const ip of ips) if (!keepIPs.has(ip)) await this.alloc.releaseIP(ip);
    for (const p of ports) if (!keepPorts.has(p)) await this.alloc.releaseNodePort(p);
  }

  async revert(): Promise<void> {
    for (const ip of this.ips.splice(0)) await this.alloc.releaseIP(ip).catch(() => undefined);
    for (const p of this.ports.splice(0)) await this.alloc.releaseNodePort(p).catch(() => undefined);
  }

  /** upstream initNodePorts: ports of the same number (TCP and UDP) share one node port. */
  private async initNodePorts(owner: string, name: string, spec: ServiceSpec): Promise<void> {
    const allocate = shouldAllocateNodePorts(spec);
    const ports = spec.ports ?? [];
    const byPort = new Map<number, number>();
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (!p || (!p.nodePort && !allocate)) continue;
      const field = `spec.ports[${i}].nodePort`;
      const shared = byPort.get(p.port);
      if (shared === undefined) {
        const requested = ports.find((o) => o.port === p.port && o.nodePort)?.nodePort;
        p.nodePort = await this.allocPort(owner, name, field, requested);
        byPort.set(p.port, p.nodePort);
      } else if (p.nodePort !== shared) {
        if (!p.nodePort) p.nodePort = shared;
        else await this.allocPort(owner, name, field, p.nodePort);
      }
    }
  }

  /** upstream updateNodePorts: ports the old object held are kept, new ones allocated. */
  private async updateNodePorts(owner: string, name: string, spec: ServiceSpec, oldSpec: ServiceSpec): Promise<void> {
    const allocate = shouldAllocateNodePorts(spec);
    const held = new Set(usesNodePorts(oldSpec.type) ? (oldSpec.ports ?? []).map((p) => p.nodePort ?? 0) : []);
    const ports = spec.ports ?? [];
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (!p || (!p.nodePort && !allocate)) continue;
      if (p.nodePort && held.has(p.nodePort)) continue;
      p.nodePort = await this.allocPort(owner, name, `spec.ports[${i}].nodePort`, p.nodePort || undefined);
    }
  }

  /** upstream allocHealthCheckNodePort / updateHealthCheckNodePort. */
  private async allocHealthCheckNodePort(owner: string, spec: ServiceSpec, held: number | undefined): Promise<void> {
    const requested = spec.healthCheckNodePort || undefined;
    if (requested !== undefined && requested === held) return;
    try {
      spec.healthCheckNodePort = await this.allocPortRaw(owner, requested);
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      throw internalError(
        requested === undefined
          ? `Internal error occurred: failed to allocate a HealthCheck NodePort 0: ${err.message}`
          : `Internal error occurred: failed to allocate requested HealthCheck NodePort ${requested}: ${err.message}`,
      );
    }
  }

  private async allocIP(
    owner: string,
    name: string,
    spec: ServiceSpec,
    requested: string | undefined,
  ): Promise<string> {
    if (requested && this.ips.includes(requested)) return requested;
    try {
      const ip = await this.alloc.allocateIP(owner, requested, { dryRun: this.ctx.dryRun === true });
      if (!this.ctx.dryRun) this.ips.push(ip);
      return ip;
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      if (requested === undefined)
        throw internalError(`Internal error occurred: failed to allocate a serviceIP: ${err.message}`);
      throw invalid("Service", "", name, [
        fieldInvalid(
          "spec.clusterIPs",
          goSlice(spec.clusterIPs?.length ? spec.clusterIPs : [requested]),
          `failed to allocate IP ${requested}: ${err.message}`,
        ),
      ]);
    }
  }

  private async allocPort(owner: string, name: string, field: string, requested: number | undefined): Promise<number> {
    try {
      return await this.allocPortRaw(owner, requested);
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      if (requested === undefined)
        throw internalError(`Internal error occurred: failed to allocate a nodePort: ${err.message}`);
      throw invalid("Service", "", name, [fieldInvalid(field, requested, err.message)]);
    }
  }

  private async allocPortRaw(owner: string, requested: number | undefined): Promise<number> {
    if (requested !== undefined && this.ports.includes(requested)) return requested;
    const port = await this.alloc.allocateNodePort(owner, requested, { dryRun: this.ctx.dryRun === true });
    if (!this.ctx.dryRun) this.ports.push(port);
    return port;
  }
}
