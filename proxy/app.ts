// ProxyApp: kubeling-proxy's wiring. Informers on Services, EndpointSlices (by their
// kubernetes.io/service-name label) and this node; every
// change only asks the BoundedFrequencyRunner for a sync (level-triggered), and the sync builds
// the whole desired state from the stores (model.ts buildState), hands it to the proxier
// (iptables or userspace) and then lets the host load balancer publish what is open.

import { ENDPOINTSLICES, NODES, SERVICES } from "#pkg/api/resources.js";
import { type EndpointSlice, LABEL_SERVICE_NAME } from "#pkg/api/types/discovery.js";
import type { Node, Service } from "#pkg/api/types/index.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import type { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { Gauge, Histogram, type Registry } from "#pkg/runtime/metrics.js";
import { aborted } from "#pkg/runtime/signals.js";
import { defaultNodeIP } from "./host.js";
import { LoadBalancerStatusWriter } from "./loadbalancer.js";
import { type BuiltState, buildState, type ProxyState } from "./model.js";
import { BoundedFrequencyRunner } from "./runner.js";

/** What either proxier does with a state. */
export interface Proxier {
  readonly mode: string;
  sync(state: ProxyState): Promise<{
    ruleCount: Partial<Record<"nat" | "filter", number>>;
    /** userspace: the host LoadBalancer services whose ports are open (iptables: all of them). */
    servedLoadBalancers?: ReadonlySet<string>;
    listeners?: number;
  }>;
  close?(): Promise<void>;
}

export interface ProxyAppOptions {
  client: ApiClient;
  proxier: Proxier;
  log: Logger;
  registry: Registry;
  hostname: string;
  /** The node's address for LoadBalancer ingress; default its InternalIP, else the host's first IPv4. */
  nodeIP?: string;
  serviceCIDRs: readonly string[];
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  /** Publish status.loadBalancer.ingress of host LoadBalancer services (default true). */
  loadBalancer?: boolean;
  clock?: Clock;
}

const SERVICE_INDEX = "service";

export class ProxyApp {
  readonly #o: ProxyAppOptions;
  readonly #clock: Clock;
  readonly #factory: InformerFactory;
  readonly #services: Informer<Service>;
  readonly #slices: Informer<EndpointSlice>;
  readonly #nodes: Informer<Node>;
  readonly #runner: BoundedFrequencyRunner;
  readonly #lb: LoadBalancerStatusWriter;
  readonly #duration: Histogram;
  readonly #lastSync: Gauge;
  readonly #rules: Gauge<"table">;
  readonly #listeners: Gauge;
  #lastSyncMs: number | undefined;
  #syncs = 0;
  #lastState: BuiltState | undefined;
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(o: ProxyAppOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
    this.#factory = new InformerFactory(o.client, { log: o.log });
    this.#services = this.#factory.informer(SERVICES);
    this.#slices = this.#factory.informer(ENDPOINTSLICES);
    this.#slices.addIndex(SERVICE_INDEX, (s) => {
      const svc = s.metadata.labels?.[LABEL_SERVICE_NAME];
      return svc ? [`${s.metadata.namespace}/${svc}`] : [];
    });
    this.#nodes = this.#factory.informer(NODES, { fieldSelector: `metadata.name=${o.hostname}` });
    this.#lb = new LoadBalancerStatusWriter({ client: o.client, log: o.log });
    this.#runner = new BoundedFrequencyRunner({
      name: "sync-proxy-rules",
      fn: () => this.#sync(),
      minIntervalMs: o.minSyncPeriodMs,
      maxIntervalMs: o.syncPeriodMs,
      clock: this.#clock,
      log: o.log,
    });
    const r = o.registry;
    this.#duration = new Histogram({
      name: "kubeproxy_sync_proxy_rules_duration_seconds",
      help: "SyncProxyRules latency in seconds",
      buckets: Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i),
      registers: [r],
    });
    this.#lastSync = new Gauge({
      name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
      help: "The last time proxy rules were successfully synced",
      registers: [r],
    });
    this.#rules = new Gauge({
      name: "kubeproxy_sync_proxy_rules_iptables_total",
      help: "Total number of iptables rules owned by kube-proxy",
      labelNames: ["table"],
      registers: [r],
    });
    this.#listeners = new Gauge({
      name: "kubeling_proxy_userspace_listeners",
      help: "Sockets the userspace proxier listens on (portals, node ports, load balancer ports)",
      registers: [r],
    });
    const changed = () => this.#runner.run();
    for (const inf of [this.#services, this.#slices, this.#nodes] as Array<Informer<Service | EndpointSlice | Node>>) {
      inf.on("add", changed);
      inf.on("update", changed);
      inf.on("delete", changed);
    }
  }

  get mode(): string {
    return this.#o.proxier.mode;
  }

  hasSynced(): boolean {
    return this.#syncs > 0;
  }

  /**
   * healthy: upstream's proxier health: not yet synced counts as healthy for a startup grace of
   * two sync periods; after that the last successful sync must be younger than two periods.
   */
  healthy(startedMs: number): boolean | string {
    const now = this.#clock.now();
    const limit = 2 * this.#o.syncPeriodMs + 10_000;
    const last = this.#lastSyncMs ?? startedMs;
    return now - last <= limit || `last successful sync ${Math.round((now - last) / 1000)}s ago`;
  }

  /** The state of the last sync (tests). */
  get lastState(): BuiltState | undefined {
    return this.#lastState;
  }

  /** Resolves after the n-th successful sync (tests). */
  waitForSyncs(n: number): Promise<void> {
    if (this.#syncs >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }

  #slicesOf = (namespace: string, name: string): EndpointSlice[] =>
    this.#slices.byIndex(SERVICE_INDEX, `${namespace}/${name}`);

  #nodeIP(): string {
    if (this.#o.nodeIP) return this.#o.nodeIP;
    const node = this.#nodes.list()[0];
    const internal = node?.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    return internal && /^\d+\.\d+\.\d+\.\d+$/.test(internal) ? internal : defaultNodeIP();
  }

  async #sync(): Promise<void> {
    const log = this.#o.log;
    const services = this.#services.list();
    const skipped: string[] = [];
    const state = buildState({
      services,
      slicesOf: this.#slicesOf,
      serviceCIDRs: this.#o.serviceCIDRs,
      hostAddresses: [...new Set(["127.0.0.1", this.#nodeIP()])],
      skipped: (name, reason) => skipped.push(`${name}: ${reason}`),
    });
    if (skipped.length > 0) log.warn({ skipped }, "service ports not programmed");
    const end = this.#duration.startTimer();
    const result = await this.#o.proxier.sync(state);
    const seconds = end();
    this.#lastState = state;
    for (const [table, n] of Object.entries(result.ruleCount)) this.#rules.set({ table }, n ?? 0);
    if (result.listeners !== undefined) this.#listeners.set(result.listeners);
    this.#lastSyncMs = this.#clock.now();
    this.#lastSync.set(this.#lastSyncMs / 1000);
    this.#syncs++;
    log.debug({ durationMs: Math.round(seconds * 1000), servicePorts: state.services.length }, "synced proxy rules");
    for (const w of this.#waiters.filter((w) => this.#syncs >= w.n)) w.resolve();
    this.#waiters = this.#waiters.filter((w) => this.#syncs < w.n);
    if (this.#o.loadBalancer ?? true) {
      const served = result.servedLoadBalancers ?? new Set(state.hostLoadBalancers.keys());
      await this.#lb.reconcile(services, served, this.#nodeIP());
    }
  }

  /** run: informers, then syncs until signal aborts; the proxier's sockets are closed at the end. */
  async run(signal: AbortSignal): Promise<void> {
    this.#factory.start(signal);
    try {
      await this.#factory.waitForSync(signal);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    this.#o.log.info({ mode: this.mode, hostname: this.#o.hostname }, "caches synced; syncing proxy rules");
    this.#runner.start(signal);
    await aborted(signal);
    await this.#runner.stop();
    await this.#factory.stopped();
    await this.#o.proxier.close?.();
  }
}
