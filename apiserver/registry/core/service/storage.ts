// The service REST storage's part beyond the generic store (upstream:
// pkg/registry/core/service/storage/alloc.go and transaction.go): ClusterIPs and NodePorts are
// allocated before a service is stored, kept across updates that leave them out, and released
// when the write fails, is a dry run, or no longer uses them, and when the service is deleted.

import { fieldInvalid, invalid } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { RequestContext, StoreHooks, WriteTransaction } from "../../store.js";
import type { ServiceAllocator, ServicePortLike } from "./allocator.js";

interface ServiceShape {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    ports?: ServicePortLike[];
  };
}

function ownerKey(ns: string | undefined, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

function usesNodePorts(type: string | undefined): boolean {
  return type === "NodePort" || type === "LoadBalancer";
}

function serviceIPs(obj: KubeObject | undefined): string[] {
  const spec = (obj as ServiceShape | undefined)?.spec;
  if (!spec) return [];
  const ips = new Set<string>();
  if (spec.clusterIP && spec.clusterIP !== "None") ips.add(spec.clusterIP);
  for (const ip of spec.clusterIPs ?? []) if (ip && ip !== "None") ips.add(ip);
  return [...ips];
}

function serviceNodePorts(obj: KubeObject | undefined): number[] {
  const spec = (obj as ServiceShape | undefined)?.spec;
  return (spec?.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => p > 0);
}

/** The hooks of the services store. */
export function serviceStorageHooks(alloc: ServiceAllocator): StoreHooks {
  return {
    begin: (ctx) => new AllocationTransaction(alloc, ctx),
    async afterDelete(obj) {
      for (const ip of serviceIPs(obj)) await alloc.releaseIP(ip);
      for (const p of serviceNodePorts(obj)) await alloc.releaseNodePort(p);
    },
  };
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
    const alloc = this.alloc;
    const svc = obj as KubeObject & ServiceShape;
    svc.spec ??= {};
    const spec = svc.spec;
    const name = obj.metadata.name ?? "";
    const owner = ownerKey(namespace, name);
    const type = spec.type ?? "ClusterIP";
    if (type !== "ExternalName") {
      let requested = spec.clusterIP || spec.clusterIPs?.[0] || undefined;
      if (requested === "None") {
        spec.clusterIP = "None";
        spec.clusterIPs = ["None"];
      } else {
        if (!requested && namespace === "default" && name === "kubernetes") requested = alloc.kubernetesServiceIP;
        const ip =
          this.ctx.dryRun && !requested ? alloc.kubernetesServiceIP : await this.allocIP(owner, name, requested);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
      spec.ipFamilies ??= ["IPv4"];
      spec.ipFamilyPolicy ??= "SingleStack";
    }
    if (usesNodePorts(type)) {
      const ports = spec.ports ?? [];
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i] as ServicePortLike;
        p.nodePort = await this.allocPort(owner, name, `spec.ports[${i}].nodePort`, p.nodePort || undefined);
      }
    }
  }

  async beforeUpdate(namespace: string | undefined, next: KubeObject, old: KubeObject): Promise<void> {
    const svc = next as KubeObject & ServiceShape;
    svc.spec ??= {};
    const spec = svc.spec;
    const oldSpec = (old as ServiceShape).spec ?? {};
    const name = next.metadata.name ?? "";
    const owner = ownerKey(namespace, name);
    const type = spec.type ?? "ClusterIP";
    if (type !== "ExternalName") {
      // A replace without clusterIP keeps the allocated one (upstream patchAllocatedValues).
      if (!spec.clusterIP && oldSpec.clusterIP) {
        spec.clusterIP = oldSpec.clusterIP;
        spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
      }
      if (oldSpec.clusterIP && spec.clusterIP !== oldSpec.clusterIP)
        throw invalid("Service", "", name, [
          fieldInvalid("spec.clusterIP", spec.clusterIP ?? "", "field is immutable"),
        ]);
      if (spec.clusterIPs && spec.clusterIP && spec.clusterIPs[0] !== spec.clusterIP)
        throw invalid("Service", "", name, [
          fieldInvalid("spec.clusterIPs[0]", spec.clusterIPs[0] ?? "", "must match `clusterIP`"),
        ]);
      if (!spec.clusterIP) {
        const ip = await this.allocIP(owner, name, undefined);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      } else {
        spec.clusterIPs ??= [spec.clusterIP];
      }
      spec.ipFamilies ??= oldSpec.ipFamilies ?? ["IPv4"];
      spec.ipFamilyPolicy ??= oldSpec.ipFamilyPolicy ?? "SingleStack";
    }
    const ports = spec.ports ?? [];
    if (!usesNodePorts(type)) {
      for (const p of ports) delete p.nodePort;
      return;
    }
    const oldPorts = usesNodePorts(oldSpec.type) ? (oldSpec.ports ?? []) : [];
    const oldSet = new Set(oldPorts.map((p) => p.nodePort ?? 0).filter((p) => p > 0));
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i] as ServicePortLike;
      if (!p.nodePort) {
        const same =
          oldPorts.find(
            (o) => o.name !== undefined && o.name === p.name && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"),
          ) ?? oldPorts.find((o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"));
        if (same?.nodePort) {
          p.nodePort = same.nodePort;
          continue;
        }
      } else if (oldSet.has(p.nodePort) || this.ports.includes(p.nodePort)) {
        continue;
      }
      p.nodePort = await this.allocPort(owner, name, `spec.ports[${i}].nodePort`, p.nodePort || undefined);
    }
  }

  /** Frees what the stored object no longer uses (all of this write's allocations when nothing was stored). */
  async commit(
    res: { obj: KubeObject; written: boolean; deleted: boolean },
    previous: KubeObject | undefined,
  ): Promise<void> {
    if (this.ctx.dryRun || !res.written) {
      await this.revert();
      return;
    }
    const keepIPs = new Set(res.deleted ? [] : serviceIPs(res.obj));
    const keepPorts = new Set(res.deleted ? [] : serviceNodePorts(res.obj));
    const ips = new Set([...this.ips, ...serviceIPs(previous)]);
    const ports = new Set([...this.ports, ...serviceNodePorts(previous)]);
    for (const ip of ips) if (!keepIPs.has(ip)) await this.alloc.releaseIP(ip);
    for (const p of ports) if (!keepPorts.has(p)) await this.alloc.releaseNodePort(p);
  }

  async revert(): Promise<void> {
    for (const ip of this.ips.splice(0)) await this.alloc.releaseIP(ip).catch(() => undefined);
    for (const p of this.ports.splice(0)) await this.alloc.releaseNodePort(p).catch(() => undefined);
  }

  private async allocIP(owner: string, name: string, requested: string | undefined): Promise<string> {
    if (requested && this.ips.includes(requested)) return requested;
    const ip = await this.alloc.allocateIP(owner, name, requested);
    this.ips.push(ip);
    if (this.ctx.dryRun) {
      await this.alloc.releaseIP(ip);
      this.ips.pop();
    }
    return ip;
  }

  private async allocPort(owner: string, name: string, field: string, requested: number | undefined): Promise<number> {
    if (requested && this.ports.includes(requested)) return requested;
    const port = await this.alloc.allocateNodePort(owner, name, field, requested);
    this.ports.push(port);
    if (this.ctx.dryRun) {
      await this.alloc.releaseNodePort(port);
      this.ports.pop();
    }
    return port;
  }
}
