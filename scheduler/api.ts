// The scheduler's writes to the API server: the binding (POST pods/{name}/binding, which the
// API server turns into spec.nodeName once, 409 if already assigned), the PodScheduled
// condition (a strategic merge patch of pods/{name}/status; conditions merge by type), and
// VolumeBinding's reads and writes of claims and PVs (ApiVolumeBinder).

import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from "#pkg/api/resources.js";
import type {
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodCondition,
  StorageClass,
} from "#pkg/api/types/index.js";
import type { InformerView } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { VolumeBindingHandle } from "./plugins/volume-binding.js";
import type { SchedulerApi } from "./scheduler.js";

const pods = PODS;

export { PODS };

export class ApiBinder implements SchedulerApi {
  readonly #client: ApiClient;

  constructor(client: ApiClient) {
    this.#client = client;
  }

  async bind(pod: Pod, nodeName: string): Promise<void> {
    const { name, namespace, uid } = pod.metadata;
    const binding = {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name, namespace, ...(uid ? { uid } : {}) },
      target: { apiVersion: "v1", kind: "Node", name: nodeName },
    };
    await this.#client.create(pods, namespace, binding, { name: name ?? "", subresource: "binding" });
  }

  async updatePodCondition(pod: Pod, condition: PodCondition): Promise<void> {
    await this.#client.patch(
      pods,
      pod.metadata.namespace,
      pod.metadata.name ?? "",
      { status: { conditions: [condition] } },
      "strategic",
      { subresource: "status" },
    );
  }
}

/** The informers VolumeBinding reads (the scheduler app's). */
export interface VolumeInformers {
  claims: InformerView<PersistentVolumeClaim>;
  volumes: InformerView<PersistentVolume>;
  storageClasses: InformerView<StorageClass>;
  nodes: InformerView<Node>;
  pods: InformerView<Pod>;
}

/**
 * ApiVolumeBinder backs the VolumeBinding plugin: reads from the scheduler's informers, writes
 * claims and PVs with PUT (an update, so a change made since the informer's copy is a 409 and
 * the pod is retried, as upstream), and tells PreBind's waits about every claim and PV change
 * and every pod deletion.
 */
export class ApiVolumeBinder implements VolumeBindingHandle {
  readonly #client: ApiClient;
  readonly #i: VolumeInformers;
  readonly #listeners = new Set<() => void>();

  constructor(client: ApiClient, informers: VolumeInformers) {
    this.#client = client;
    this.#i = informers;
    const changed = () => {
      for (const l of [...this.#listeners]) l();
    };
    informers.claims.on("add", changed);
    informers.claims.on("update", changed);
    informers.claims.on("delete", changed);
    informers.volumes.on("add", changed);
    informers.volumes.on("update", changed);
    informers.volumes.on("delete", changed);
    informers.pods.on("delete", changed);
  }

  claim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.#i.claims.get(`${namespace}/${name}`);
  }

  volume(name: string): PersistentVolume | undefined {
    return this.#i.volumes.get(name);
  }

  volumes(): readonly PersistentVolume[] {
    return this.#i.volumes.list();
  }

  storageClass(name: string): StorageClass | undefined {
    return this.#i.storageClasses.get(name);
  }

  node(name: string): Node | undefined {
    return this.#i.nodes.get(name);
  }

  podExists(namespace: string, name: string, uid: string): boolean {
    const p = this.#i.pods.get(`${namespace}/${name}`);
    return !!p && (!uid || p.metadata.uid === uid);
  }

  updateClaim(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim> {
    return this.#client.update(PERSISTENTVOLUMECLAIMS, pvc.metadata.namespace, pvc);
  }

  updateVolume(pv: PersistentVolume): Promise<PersistentVolume> {
    return this.#client.update(PERSISTENTVOLUMES, undefined, pv);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
