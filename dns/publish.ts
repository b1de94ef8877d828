// The kube-dns Service that makes kubeling-dns reachable with no flags (kubeadm's CoreDNS Service,
// here kept by kubeling-dns itself): kube-system/kube-dns with ports dns (53/UDP) and dns-tcp
// (53/TCP) and no selector, and its Endpoints listing the address and port each kubeling-dns
// listens on. Each server adds its own address and takes it away when it stops; others' stay.
// Kubelets read the Service's ClusterIP as their default --cluster-dns; kube-proxy carries
// ClusterIP:53 to the endpoints.

import { isAlreadyExists, isConflict, isNotFound } from "#pkg/api/errors.js";
import { ENDPOINTS, SERVICES } from "#pkg/api/resources.js";
import type { Endpoints, Service } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { Logger } from "#pkg/runtime/log.js";

export const KUBE_DNS_NAMESPACE = "kube-system";
export const KUBE_DNS_SERVICE = "kube-dns";
const LABELS = { "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "kubeling-dns" };

export interface PublishOptions {
  client: ApiClient;
  /** The address pods reach this server at, and the port it listens on. */
  address: string;
  port: number;
  log: Logger;
}

function ports(port: number) {
  return [
    { name: "dns", port, protocol: "UDP" },
    { name: "dns-tcp", port, protocol: "TCP" },
  ];
}

/** ensureService creates kube-system/kube-dns when missing; returns it. */
export async function ensureService(client: ApiClient, log: Logger): Promise<Service> {
  try {
    return await client.get(SERVICES, KUBE_DNS_NAMESPACE, KUBE_DNS_SERVICE);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    const svc = await client.create(SERVICES, KUBE_DNS_NAMESPACE, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: KUBE_DNS_SERVICE, namespace: KUBE_DNS_NAMESPACE, labels: LABELS },
      spec: {
        type: "ClusterIP",
        ports: [
          { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
          { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
        ],
      },
    });
    log.info(
      { service: `${KUBE_DNS_NAMESPACE}/${KUBE_DNS_SERVICE}`, clusterIP: svc.spec?.clusterIP },
      "created the cluster DNS Service",
    );
    return svc;
  } catch (err) {
    if (isAlreadyExists(err)) return client.get(SERVICES, KUBE_DNS_NAMESPACE, KUBE_DNS_SERVICE);
    throw err;
  }
}

/**
 * updateEndpoints adds (present) or removes (absent) this server's address in the Endpoints
 * kube-system/kube-dns, retrying on conflicts with other servers' writes.
 */
export async function updateEndpoints(o: PublishOptions, present: boolean): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    let ep: Endpoints | undefined;
    try {
      ep = await o.client.get(ENDPOINTS, KUBE_DNS_NAMESPACE, KUBE_DNS_SERVICE);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const subsets = structuredClone(ep?.subsets ?? []);
    const mine = subsets.find((s) => s.ports?.[0]?.port === o.port);
    const has = mine?.addresses?.some((a) => a.ip === o.address) ?? false;
    if (has === present) return;
    if (present) {
      if (mine) mine.addresses = [...(mine.addresses ?? []), { ip: o.address }];
      else subsets.push({ addresses: [{ ip: o.address }], ports: ports(o.port) });
    } else if (mine) {
      mine.addresses = (mine.addresses ?? []).filter((a) => a.ip !== o.address);
    }
    const kept = subsets.filter((s) => (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0) > 0);
    try {
      if (!ep) {
        await o.client.create(ENDPOINTS, KUBE_DNS_NAMESPACE, {
          apiVersion: "v1",
          kind: "Endpoints",
          metadata: { name: KUBE_DNS_SERVICE, namespace: KUBE_DNS_NAMESPACE, labels: LABELS },
          subsets: kept,
        });
      } else {
        await o.client.update(ENDPOINTS, KUBE_DNS_NAMESPACE, { ...ep, subsets: kept });
      }
      o.log.info(
        { endpoints: `${KUBE_DNS_NAMESPACE}/${KUBE_DNS_SERVICE}`, address: o.address, port: o.port, present },
        present ? "published this server" : "withdrew this server",
      );
      return;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) throw err;
    }
  }
  throw new Error(`could not update ${KUBE_DNS_NAMESPACE}/${KUBE_DNS_SERVICE} Endpoints: too many conflicts`);
}
