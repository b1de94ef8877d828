// The pods network of a cluster run on this host (the test harness's clusters, `npm run up`): the
// Docker bridge network the kubelets put pod sandboxes on (named after --cluster-name, as
// kubelet/runtime/docker.ts ensureNetwork finds it), made before the API server starts so that
// the API server can listen on its gateway, the host's address on that network: pods reach the API
// server there, as upstream's reach it on the node network, while etcd, the scheduler, the
// controller-manager and the kubelets listen on 127.0.0.1 only, which no container reaches.

import { docker } from "./kubelet.js";

export interface PodNetwork {
  name: string;
  id: string;
  subnet: string;
  /** The host's address on the network: what pods reach the host's processes at. */
  gateway: string;
}

/** The label the kubelets (and cleanupCluster) know a cluster's Docker objects by. */
const LABEL_CLUSTER = "kubeling.io/cluster";

function ipToInt(ip: string): number {
  return ip.split(".").reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** cidrsOverlap: whether two IPv4 CIDRs share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const range = (cidr: string): [number, number] => {
    const [ip = "", bits = "32"] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    const start = ipToInt(ip) - (ipToInt(ip) % size);
    return [start, start + size - 1];
  };
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

/**
 * ensurePodNetwork makes (or finds) the cluster's pods network, labelled with the cluster name so
 * that cleanupCluster removes it, on a subnet Docker picks (or the one given), and returns its
 * gateway. Refuses a subnet overlapping the Service range: pods would route ClusterIPs to it.
 */
export async function ensurePodNetwork(
  clusterName: string,
  o: { subnet?: string; serviceClusterIPRange?: string } = {},
): Promise<PodNetwork> {
  const find = async () =>
    (await docker.listNetworks({ filters: { name: [clusterName] } })).find((n) => n.Name === clusterName);
  let found = await find();
  if (!found) {
    await docker
      .createNetwork({
        Name: clusterName,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: { [LABEL_CLUSTER]: clusterName },
        ...(o.subnet ? { IPAM: { Driver: "default", Config: [{ Subnet: o.subnet }] } } : {}),
      })
      .catch((err: unknown) => {
        // A kubelet of the cluster made it meanwhile.
        if ((err as { statusCode?: number }).statusCode !== 409) throw err;
      });
    found = await find();
  }
  if (!found) throw new Error(`network ${clusterName} vanished right after it was created`);
  const info = await docker.getNetwork(found.Id).inspect();
  const config = (info.IPAM?.Config ?? []).find((c: { Subnet?: string }) => c.Subnet?.includes("."));
  const subnet: string | undefined = config?.Subnet;
  const gateway: string | undefined = config?.Gateway;
  if (!subnet || !gateway) throw new Error(`network ${clusterName} has no IPv4 subnet and gateway`);
  const services = o.serviceClusterIPRange ?? "10.96.0.0/12";
  if (cidrsOverlap(subnet, services))
    throw new Error(
      `network ${clusterName}'s subnet ${subnet} overlaps the Service range ${services}: ` +
        "configure Docker's default-address-pools elsewhere",
    );
  return { name: clusterName, id: found.Id, subnet, gateway };
}
