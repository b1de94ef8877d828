// The scheduler's and kubelets' parts that controller integration tests need, played on the pods
// of one namespace without Docker: a pod pinned to a node (spec.nodeName, or the DaemonSet
// controller's metadata.name node affinity) is bound there, made Running and Ready (unless its
// first container's image starts with "stuck/", or ready() says no), and a bound pod being
// deleted is removed at once, as a kubelet does once its containers have stopped. Pods of no
// node stay Pending unless a default node is given. Every pod event is offered to the samplers first, so a test sees each state.

import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { isPodReady } from "#pkg/controller/pod-util.js";
import { setPodRunningReady } from "./objects.js";

/** The node a pending pod asks for: its nodeName or a single metadata.name In of its required affinity. */
export function pinnedNode(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const t of terms ?? [])
    for (const f of t.matchFields ?? [])
      if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
  return undefined;
}

export class FakeNodes {
  readonly informer: Informer<Pod>;
  readonly #client: ApiClient;
  readonly #ns: string;
  readonly #busy = new Set<string>();
  readonly #samplers = new Set<(pods: Pod[]) => void>();
  readonly #errors: unknown[] = [];
  readonly #abort = new AbortController();
  /** Whether a bound pod should become Ready (default: unless its image starts with "stuck/"). */
  ready: (pod: Pod) => boolean = (p) => !(p.spec?.containers[0]?.image ?? "").startsWith("stuck/");
  readonly #defaultNode: string | undefined;

  /** o.defaultNode: where pods pinned to no node are bound (default: nowhere, they stay Pending). */
  constructor(client: ApiClient, namespace = "default", o: { defaultNode?: string } = {}) {
    this.#client = client;
    this.#ns = namespace;
    this.#defaultNode = o.defaultNode;
    this.informer = new Informer<Pod>(client, PODS, { namespace });
    this.informer.on("add", (p) => this.#onEvent(p));
    this.informer.on("update", (_o, p) => this.#onEvent(p));
    this.informer.on("delete", () => this.#sample());
  }

  async start(): Promise<void> {
    void this.informer.run(this.#abort.signal).catch(() => undefined);
    await this.informer.waitForSync();
  }

  stop(): void {
    this.#abort.abort();
  }

  /** Errors of the fake's own writes (not counting pods already gone). */
  get errors(): readonly unknown[] {
    return this.#errors;
  }

  /** Calls fn with every pod after each pod event until the returned function is called. */
  sample(fn: (pods: Pod[]) => void): () => void {
    this.#samplers.add(fn);
    fn(this.informer.list());
    return () => this.#samplers.delete(fn);
  }

  #sample(): void {
    const pods = this.informer.list();
    for (const s of this.#samplers) s(pods);
  }

  #onEvent(pod: Pod): void {
    this.#sample();
    const uid = pod.metadata.uid ?? "";
    if (this.#busy.has(uid)) return;
    const step = this.#step(pod);
    if (!step) return;
    this.#busy.add(uid);
    step
      .catch((err: unknown) => {
        if (!isNotFound(err) && !isConflict(err)) this.#errors.push(err);
      })
      .finally(() => {
        this.#busy.delete(uid);
        // Whatever changed meanwhile: look at the latest copy again.
        const latest = this.informer.get(`${this.#ns}/${pod.metadata.name}`);
        if (latest && latest.metadata.resourceVersion !== pod.metadata.resourceVersion) this.#onEvent(latest);
      });
  }

  #step(pod: Pod): Promise<unknown> | undefined {
    const name = pod.metadata.name ?? "";
    if (pod.metadata.deletionTimestamp) {
      if (!pod.spec?.nodeName || (pod.metadata.finalizers?.length ?? 0) > 0) return undefined;
      return this.#client.delete(PODS, this.#ns, name, { gracePeriodSeconds: 0 });
    }
    if (!pod.spec?.nodeName) {
      const node = pinnedNode(pod) ?? this.#defaultNode;
      if (!node) return undefined;
      return this.#client.create(
        PODS,
        this.#ns,
        { apiVersion: "v1", kind: "Binding", metadata: { name }, target: { kind: "Node", name: node } },
        { name, subresource: "binding" },
      );
    }
    if (pod.status?.phase === "Running" && isPodReady(pod) === this.ready(pod)) return undefined;
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return undefined;
    return setPodRunningReady(this.#client, pod, { ready: this.ready(pod) });
  }
}
