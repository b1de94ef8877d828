// The registry: one Store per resource over one storage (etcd) and one watch cache, plus the
// cluster's housekeeping (default namespaces, periodic compaction). The HTTP layer asks it for
// the Store of a resource and for etcd health.

import { isIP } from "node:net";
import { isAlreadyExists, isNotFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import {
  BUILTIN_RESOURCES,
  CLUSTERROLES,
  ENDPOINTSLICES,
  isCreateOnly,
  PRIORITYCLASSES,
  type ResourceInfo,
  ROLES,
} from "#pkg/api/resources.js";
import { type EndpointSlice, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR } from "#pkg/api/types/discovery.js";
import type { PolicyRule, Role } from "#pkg/api/types/rbac.js";
import { systemPriorityClasses } from "#pkg/api/types/scheduling.js";
import { Backoff } from "#pkg/flowcontrol/backoff.js";
import type { Logger } from "#pkg/runtime/log.js";
import { exponentialBackoff } from "#pkg/runtime/wait.js";
import type { AdmissionContext } from "../admission/context.js";
import { DEFAULT_ADMISSION_PLUGINS, newAdmissionChain } from "../admission/plugins.js";
import type { Authorizer } from "../auth/authorizer/authorizer.js";
import { RuleResolver } from "../auth/rbac/resolver.js";
import { EtcdStorage, type EtcdTLS } from "../storage/etcd.js";
import type { Storage } from "../storage/interfaces.js";
import type { EncryptionConfig } from "../storage/value/encryption-config.js";
import { WatchCache, type WatchCacheOptions } from "../storage/watch-cache.js";
import { DEFAULT_NAMESPACES, namespaceObject } from "./core/namespace/lifecycle.js";
import { DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, ServiceAllocator } from "./core/service/allocator.js";
import { rbacSourceFromCache } from "./rbac/source.js";
import { restStorageFor } from "./rest.js";
import { Store } from "./store.js";
import { strategyFor } from "./strategies.js";
import type { Strategy } from "./strategy.js";

export interface RegistryOptions {
  etcdServers: string[];
  /** TLS to etcd (--etcd-cafile/--etcd-certfile/--etcd-keyfile). */
  etcdTLS?: EtcdTLS;
  /** etcd key prefix, e.g. "/registry". */
  prefix: string;
  /** Storage to use instead of etcd at etcdServers (tests: a MemoryStorage); the caller closes it. */
  storage?: Storage;
  /**
   * Encryption at rest (--encryption-provider-config) of the etcd storage opened here; a storage
   * handed in brings its own transformers.
   */
  encryption?: EncryptionConfig | undefined;
  /** --service-cluster-ip-range (default 10.96.0.0/12). */
  serviceClusterIPRange?: string;
  /** --service-node-port-range (default 30000-32767). */
  serviceNodePortRange?: string;
  log: Logger;
  /** Per-kind strategies; default: apiserver/registry/kinds strategyFor. */
  strategyFor?: (r: ResourceInfo) => Strategy;
  /** Served resources (default BUILTIN_RESOURCES). */
  resources?: readonly ResourceInfo[];
  /** etcd compaction period (default 5 minutes; 0 disables). */
  compactionIntervalMs?: number;
  /** Watch cache tuning (history size, bookmark period, buffer sizes). */
  watchCache?: Omit<WatchCacheOptions, "storage" | "resources" | "log">;
  /** How long open() waits for etcd to answer (default 60 s). */
  connectTimeoutMs?: number;
  /** Events expire this long after their last write (--event-ttl, default 1 h; 0: never). */
  eventTTLSeconds?: number;
  /** Period of the ClusterIP/NodePort repair pass (default 3 minutes, as upstream; 0: only at open). */
  allocationRepairIntervalMs?: number;
  /** The admission plugins every write passes, by name (default: upstream's default-on ones kubeling has). */
  admissionPlugins?: readonly string[];
}

const storeKey = (r: Pick<ResourceInfo, "group" | "resource">) => `${r.group}/${r.resource}`;

export class Registry {
  readonly stores = new Map<string, Store>();
  readonly storage: Storage;
  readonly watchCache: WatchCache;
  readonly allocator: ServiceAllocator;
  /** The rules bound to a user, read from the watch cache (RBAC authorizer, escalation checks). */
  readonly rbacResolver: RuleResolver;
  /**
   * The server's authorizer chain, which the RBAC kinds ask for `escalate` and `bind`; set by
   * the API server once built (it reads this registry's cache). Unset: nobody holds those verbs.
   */
  authorizer: Authorizer | undefined;
  private readonly log: Logger;
  private closed = false;
  /** False when the storage was handed in by the caller (who closes it). */
  private ownsStorage = true;
  /** Revision of this server's last namespace write: the cache answers once it has seen it. */
  private namespaceWriteRev = 0;
  /** Revision of this server's last write of each resource ("group/resource"). */
  readonly writeRevs = new Map<string, number>();
  private repairTimer: NodeJS.Timeout | undefined;

  private constructor(storage: Storage, watchCache: WatchCache, allocator: ServiceAllocator, log: Logger) {
    this.storage = storage;
    this.watchCache = watchCache;
    this.allocator = allocator;
    this.rbacResolver = new RuleResolver(rbacSourceFromCache(watchCache));
    this.log = log;
  }

  static async open(o: RegistryOptions): Promise<Registry> {
    const log = o.log.child({ module: "registry" });
    // Create-only kinds (the access reviews) are answered, never stored: no store, no cache.
    const resources = (o.resources ?? BUILTIN_RESOURCES).filter((r) => !isCreateOnly(r));
    const strategies = o.strategyFor ?? strategyFor;
    const eventTTL = o.eventTTLSeconds ?? 3600;
    const storage =
      o.storage ??
      new EtcdStorage({
        endpoints: o.etcdServers,
        prefix: o.prefix,
        log,
        ...(o.etcdTLS ? { tls: o.etcdTLS } : {}),
        transformers: o.encryption?.keyTransformers(o.prefix, resources),
      });
    if (o.storage && o.encryption) throw new Error("Registry.open: encryption is configured on the storage handed in");
    try {
      await waitForEtcd(storage, o.connectTimeoutMs ?? 60_000, log, o.etcdServers);
      const watchCache = new WatchCache({ storage, resources, log, ...(o.watchCache ?? {}) });
      await watchCache.start();
      const allocator = new ServiceAllocator(storage, {
        cidr: o.serviceClusterIPRange ?? DEFAULT_SERVICE_CIDR,
        nodePortRange: o.serviceNodePortRange ?? DEFAULT_NODE_PORT_RANGE,
      });
      const reg = new Registry(storage, watchCache, allocator, log);
      reg.ownsStorage = o.storage === undefined;
      const admissionContext: AdmissionContext = {
        getNamespace: (name) => reg.getNamespace(name),
        cached: (r, namespace) => watchCache.for(r).list(r.namespaced ? namespace : undefined),
        current: async (r, namespace) => {
          await watchCache.waitFresh(reg.writeRevs.get(storeKey(r)) ?? 0);
          return watchCache.for(r).list(r.namespaced ? namespace : undefined);
        },
        store: (r) => reg.store(r),
        log: log.child({ module: "admission" }),
      };
      const admission = newAdmissionChain(admissionContext, o.admissionPlugins ?? DEFAULT_ADMISSION_PLUGINS);
      const restDeps = {
        allocator,
        eventTTLSeconds: eventTTL,
        onNamespaceWrite: (rev: number) => {
          if (rev > reg.namespaceWriteRev) reg.namespaceWriteRev = rev;
        },
        rbac: {
          resolver: reg.rbacResolver,
          authorizer: () => reg.authorizer,
          roleRules: async (ref: { kind: string; name: string }, ns: string): Promise<readonly PolicyRule[]> => {
            const role = (
              ref.kind === "Role"
                ? await reg.store(ROLES).get(ns, ref.name)
                : await reg.store(CLUSTERROLES).get(undefined, ref.name)
            ) as Role;
            return role.rules ?? [];
          },
        },
      };
      for (const r of resources) {
        const key = storeKey(r);
        const kind = restStorageFor(r, restDeps);
        const onWrite = (rev: number) => {
          if (rev > (reg.writeRevs.get(key) ?? 0)) reg.writeRevs.set(key, rev);
          kind.onWrite?.(rev);
        };
        reg.stores.set(
          key,
          new Store({ resource: r, strategy: strategies(r), storage, watchCache, admission, ...kind, onWrite, log }),
        );
      }
      await reg.ensureDefaultNamespaces();
      await reg.ensureSystemPriorityClasses();
      await reg.repairAllocations();
      const repairEvery = o.allocationRepairIntervalMs ?? 3 * 60_000;
      if (repairEvery > 0) {
        reg.repairTimer = setInterval(() => void reg.repairAllocations(), repairEvery);
        reg.repairTimer.unref();
      }
      storage.startCompaction(o.compactionIntervalMs ?? 5 * 60_000);
      log.info({ prefix: o.prefix, etcd: o.etcdServers, resources: resources.length }, "registry open");
      return reg;
    } catch (err) {
      if (!o.storage) storage.close();
      throw err;
    }
  }

  /** The Store of a resource; throws for a resource this registry does not serve. */
  store(r: Pick<ResourceInfo, "group" | "resource">): Store {
    const s = this.stores.get(storeKey(r));
    if (!s) throw new Error(`registry: no store for resource ${r.group ? `${r.resource}.${r.group}` : r.resource}`);
    return s;
  }

  async healthy(): Promise<boolean> {
    if (this.closed) return false;
    return this.storage.healthy();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.repairTimer) clearInterval(this.repairTimer);
    this.watchCache.stop();
    if (this.ownsStorage) this.storage.close();
  }

  /** A namespace by name: the watch cache first (no etcd round trip), then etcd. */
  async getNamespace(name: string): Promise<KubeObject | undefined> {
    if (this.watchCache.rev >= this.namespaceWriteRev) {
      const cached = this.watchCache.for({ resource: "namespaces" }).get(undefined, name);
      if (cached) return cached.obj;
    }
    // Not cached yet (just created) or really missing: ask etcd.
    const stored = await this.storage.get({ r: { group: "", resource: "namespaces" }, name });
    return stored?.obj;
  }

  /**
   * The `kubernetes` Service in `default` (first IP of the service range, port 443) and its
   * Endpoints and EndpointSlice pointing at this API server, as upstream's bootstrap controller
   * and endpoint reconciler keep them. Idempotent; both are corrected when the address or port
   * changed.
   */
  async ensureKubernetesService(o: { address: string; port: number }): Promise<void> {
    const services = this.store({ group: "", resource: "services" });
    const endpoints = this.store({ group: "", resource: "endpoints" });
    const labels = { component: "apiserver", provider: "kubernetes" };
    const getOrUndefined = (store: Store) =>
      store.get("default", "kubernetes").catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
    if (!(await getOrUndefined(services))) {
      try {
        await services.create(
          "default",
          {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "kubernetes", labels },
            spec: {
              type: "ClusterIP",
              sessionAffinity: "None",
              ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: o.port }],
            },
          },
          {},
        );
        this.log.info({ ip: this.allocator.kubernetesServiceIP }, "created the kubernetes service");
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    const subsets = [{ addresses: [{ ip: o.address }], ports: [{ name: "https", port: o.port, protocol: "TCP" }] }];
    // The mirroring controller leaves these Endpoints alone: the slice below is the server's own.
    const epLabels = { [LABEL_SKIP_MIRROR]: "true" };
    const existing = await getOrUndefined(endpoints);
    if (!existing) {
      try {
        await endpoints.create(
          "default",
          { apiVersion: "v1", kind: "Endpoints", metadata: { name: "kubernetes", labels: epLabels }, subsets },
          {},
        );
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    } else if (
      JSON.stringify(existing.subsets) !== JSON.stringify(subsets) ||
      existing.metadata.labels?.[LABEL_SKIP_MIRROR] !== "true"
    ) {
      const next = structuredClone(existing);
      next.metadata.labels = { ...next.metadata.labels, ...epLabels };
      await endpoints.update("default", "kubernetes", { ...next, subsets }, {});
    }
    await this.ensureKubernetesEndpointSlice(o);
  }

  /**
   * The EndpointSlice `default/kubernetes` beside those Endpoints (upstream's EndpointsAdapter:
   * named like the service, only the kubernetes.io/service-name label, one ready IPv4 endpoint).
   */
  private async ensureKubernetesEndpointSlice(o: { address: string; port: number }): Promise<void> {
    if (!this.stores.has(storeKey(ENDPOINTSLICES))) return;
    const slices = this.store(ENDPOINTSLICES);
    const want = {
      addressType: isIP(o.address) === 6 ? "IPv6" : "IPv4",
      endpoints: [{ addresses: [o.address], conditions: { ready: true } }],
      ports: [{ name: "https", port: o.port, protocol: "TCP" }],
    };
    const labels = { [LABEL_SERVICE_NAME]: "kubernetes" };
    const existing = (await slices.get("default", "kubernetes").catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    })) as EndpointSlice | undefined;
    if (!existing) {
      try {
        await slices.create(
          "default",
          {
            apiVersion: "discovery.k8s.io/v1",
            kind: "EndpointSlice",
            metadata: { name: "kubernetes", labels },
            ...want,
          },
          {},
        );
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      return;
    }
    const have = { addressType: existing.addressType, endpoints: existing.endpoints, ports: existing.ports };
    if (
      JSON.stringify(have) === JSON.stringify(want) &&
      existing.metadata.labels?.[LABEL_SERVICE_NAME] === "kubernetes"
    )
      return;
    // A changed address type cannot be updated in place: replace the slice.
    if (existing.addressType !== want.addressType) {
      await slices.delete("default", "kubernetes", {}, {});
      await this.ensureKubernetesEndpointSlice(o);
      return;
    }
    const next = { ...structuredClone(existing), ...want };
    next.metadata.labels = { ...next.metadata.labels, ...labels };
    await slices.update("default", "kubernetes", next, {});
  }

  /** Frees leaked service IPs/ports and re-records missing ones; never throws. */
  async repairAllocations(): Promise<void> {
    try {
      const services = this.watchCache.for({ resource: "services" }).list(undefined);
      const r = await this.allocator.repair(services);
      const changed = r.releasedIPs.length + r.releasedPorts.length + r.restoredIPs.length + r.restoredPorts.length;
      if (changed > 0) this.log.info(r, "repaired service IP/port allocations");
    } catch (err) {
      this.log.warn({ err }, "service allocation repair failed");
    }
  }

  /**
   * upstream's scheduling/bootstrap-system-priority-classes post-start hook: system-node-critical
   * and system-cluster-critical exist (created when missing, left as they are otherwise).
   */
  private async ensureSystemPriorityClasses(): Promise<void> {
    const classes = this.stores.get(storeKey(PRIORITYCLASSES));
    if (!classes) return;
    for (const pc of systemPriorityClasses()) {
      const name = pc.metadata.name ?? "";
      try {
        await classes.get(undefined, name);
        continue;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        await classes.create(undefined, pc, {});
        this.log.info({ name, value: pc.value }, "created PriorityClass");
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
  }

  private async ensureDefaultNamespaces(): Promise<void> {
    const namespaces = this.stores.get(storeKey({ group: "", resource: "namespaces" }));
    if (!namespaces) return;
    for (const name of DEFAULT_NAMESPACES) {
      if (await this.getNamespace(name)) continue;
      try {
        await namespaces.create(undefined, namespaceObject(name), {});
        this.log.info({ name }, "created default namespace");
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
  }
}

async function waitForEtcd(storage: Storage, timeoutMs: number, log: Logger, endpoints: string[]): Promise<void> {
  let lastErr: unknown;
  let attempt = 0;
  const reached = await exponentialBackoff(
    async () => {
      attempt++;
      try {
        await storage.currentRevision();
        return true;
      } catch (err) {
        lastErr = err;
        if (attempt === 1 || attempt % 10 === 0)
          log.warn({ err: (err as Error).message, endpoints }, "waiting for etcd");
        return false;
      }
    },
    new Backoff(100, 2000),
    AbortSignal.timeout(timeoutMs),
  );
  if (!reached) {
    throw new Error(`cannot reach etcd at ${endpoints.join(",")}: ${(lastErr as Error | undefined)?.message}`, {
      cause: lastErr,
    });
  }
}
