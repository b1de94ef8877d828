// The scheduler's writes to the API server: the binding (POST pods/{name}/binding, which the
// API server turns into spec.nodeName once, 409 if already assigned) and the PodScheduled
// condition (a strategic merge patch of pods/{name}/status; conditions merge by type).

import { PODS } from "#pkg/api/resources.js";
import type { Pod, PodCondition } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
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
