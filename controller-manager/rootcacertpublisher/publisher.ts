// The root CA certificate publisher (upstream pkg/controller/certificates/rootcacertpublisher):
// every active namespace has the ConfigMap kube-root-ca.crt holding the cluster CA (ca.crt), which
// the kube-api-access volume of every pod projects, so an in-cluster client can verify the API
// server. Keys are namespace names: a namespace added or updated, and the ConfigMap changed or
// deleted, enqueue its namespace; the sync creates or rewrites what differs from the CA.

import { isAlreadyExists, isNotFound } from "#pkg/api/errors.js";
import { CONFIGMAPS, NAMESPACES } from "#pkg/api/resources.js";
import type { ConfigMap, Namespace } from "#pkg/api/types/index.js";
import type { Informer } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";

export const NAME = "root-ca-certificate-publisher-controller";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
const DATA_KEY = "ca.crt";
const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

export interface RootCAPublisherOptions {
  /** The PEM bundle to publish (--root-ca-file, else the CA of the controller-manager's kubeconfig). */
  rootCA: string;
}

export class RootCACertPublisher implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #log: Logger;
  readonly #namespaces: Informer<Namespace>;
  readonly #configMaps: Informer<ConfigMap>;
  readonly #rootCA: string;

  constructor(ctx: ControllerContext, o: RootCAPublisherOptions) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.#rootCA = o.rootCA;
    this.queue = new WorkQueue({ name: "root_ca_cert_publisher", clock: ctx.clock });
    this.#namespaces = ctx.informers.informer(NAMESPACES);
    this.#configMaps = ctx.informers.informer(CONFIGMAPS);
    const enqueue = (namespace: string | undefined) => {
      if (namespace) this.queue.add(namespace);
    };
    this.#namespaces.on("add", (ns) => enqueue(ns.metadata.name));
    this.#namespaces.on("update", (_old, ns) => enqueue(ns.metadata.name));
    const ours = (cm: ConfigMap) => cm.metadata.name === ROOT_CA_CONFIGMAP;
    this.#configMaps.on("update", (_old, cm) => {
      if (ours(cm)) enqueue(cm.metadata.namespace);
    });
    this.#configMaps.on("delete", (cm) => {
      const o = objectOf(cm);
      if (ours(o)) enqueue(o.metadata.namespace);
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (ns) => this.sync(ns), signal, this.#log);
  }

  /** sync makes namespace `name`'s kube-root-ca.crt hold exactly the root CA. */
  async sync(name: string): Promise<void> {
    const ns = this.#namespaces.get(name);
    if (ns?.status?.phase !== "Active" || ns.metadata.deletionTimestamp) return;
    const cm = this.#configMaps.get(`${name}/${ROOT_CA_CONFIGMAP}`);
    try {
      if (!cm) {
        await this.#client.create<ConfigMap>(CONFIGMAPS, name, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: ROOT_CA_CONFIGMAP,
            namespace: name,
            annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION },
          },
          data: { [DATA_KEY]: this.#rootCA },
        });
        this.#log.info({ namespace: name, configMap: ROOT_CA_CONFIGMAP }, "published the root CA");
        return;
      }
      const data = cm.data ?? {};
      const current =
        Object.keys(data).length === 1 &&
        data[DATA_KEY] === this.#rootCA &&
        cm.metadata.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION;
      if (current) return;
      // Data replaced whole (upstream drops other keys too); the resourceVersion guards a race.
      await this.#client.update<ConfigMap>(CONFIGMAPS, name, {
        ...cm,
        metadata: {
          ...cm.metadata,
          annotations: { ...cm.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION },
        },
        data: { [DATA_KEY]: this.#rootCA },
      });
      this.#log.info({ namespace: name, configMap: ROOT_CA_CONFIGMAP }, "restored the root CA");
    } catch (err) {
      // AlreadyExists: the cache is behind, the next event resyncs; NotFound: the namespace went away.
      if (isAlreadyExists(err) || isNotFound(err)) return;
      throw err;
    }
  }
}

export function newRootCACertPublisher(ctx: ControllerContext): Controller {
  const rootCA = ctx.options?.rootCA ?? ctx.client.config.caPem;
  if (!rootCA)
    throw new Error(
      `${NAME}: no root CA: give --root-ca-file, or a kubeconfig with the cluster's certificate-authority`,
    );
  return new RootCACertPublisher(ctx, { rootCA });
}
