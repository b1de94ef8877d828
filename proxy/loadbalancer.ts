// The host load balancer: the one piece of a cloud provider's service controller kubeling has,
// run inside kubeling-proxy rather than the controller-manager because the proxy is what opens
// the port, in the host's network namespace, and knows the address it answers on: a service's
// status.loadBalancer.ingress says [{ip: <node IP>, ipMode: VIP}] only once a sync has opened
// its port (iptables rules, or userspace listeners), and is cleared when it no longer is (a
// younger service whose port an older one holds). Services with spec.loadBalancerClass belong
// to another implementation and are left alone, as upstream's controllers do.
// The identity needs services/status patch (bootstrap ClusterRole system:kubeling:load-balancer).

import { SERVICES } from "#pkg/api/resources.js";
import type { Service } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { Logger } from "#pkg/runtime/log.js";
import { isHostLoadBalancer } from "./model.js";

export interface IngressEntry {
  ip: string;
  ipMode: string;
}

/** desiredIngress: what a host LoadBalancer service's status should say. */
export function desiredIngress(served: boolean, nodeIP: string): IngressEntry[] {
  return served ? [{ ip: nodeIP, ipMode: "VIP" }] : [];
}

function sameIngress(
  have: ReadonlyArray<{ ip?: string; ipMode?: string; hostname?: string }>,
  want: IngressEntry[],
): boolean {
  return (
    have.length === want.length &&
    have.every((h, i) => h.ip === want[i]?.ip && (h.ipMode ?? "VIP") === want[i]?.ipMode && !h.hostname)
  );
}

export class LoadBalancerStatusWriter {
  readonly #client: ApiClient;
  readonly #log: Logger;

  constructor(o: { client: ApiClient; log: Logger }) {
    this.#client = o.client;
    this.#log = o.log.child({ controller: "load-balancer" });
  }

  /**
   * reconcile patches the status of every host LoadBalancer service that differs from what
   * served (the "ns/name" of those whose ports are open) says. Failures are logged; the next
   * sync tries again.
   */
  async reconcile(services: readonly Service[], served: ReadonlySet<string>, nodeIP: string): Promise<number> {
    let patched = 0;
    for (const svc of services) {
      if (!isHostLoadBalancer(svc)) continue;
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const want = desiredIngress(served.has(key), nodeIP);
      const have = svc.status?.loadBalancer?.ingress ?? [];
      if (sameIngress(have, want)) continue;
      try {
        await this.#client.patch(
          SERVICES,
          svc.metadata.namespace,
          svc.metadata.name ?? "",
          { status: { loadBalancer: want.length > 0 ? { ingress: want } : { ingress: null } } },
          "merge",
          { subresource: "status", fieldManager: "kubeling-proxy" },
        );
        patched++;
        this.#log.info({ service: key, ingress: want }, "load balancer status updated");
      } catch (err) {
        this.#log.warn({ err, service: key }, "cannot update load balancer status");
      }
    }
    return patched;
  }
}
