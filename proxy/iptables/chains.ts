// The names of kubeling-proxy's iptables chains. The cluster named "kubeling" (compose's, and the
// default) gets upstream's names exactly: KUBE-SERVICES, KUBE-SVC-<hash>, ... Any other cluster's
// top-level chains carry a suffix of its own (KUBE-SERVICES-AB2CD), and its per-service chains
// hash the cluster name in, so that several clusters on one host (the test harness runs them in
// parallel) never flush, rewrite or delete each other's chains. Which chains are a cluster's is
// then decidable from the names alone: its top-level chains, and whatever they reach.

import { createHash } from "node:crypto";

/** The cluster whose chains have upstream's names (compose's cluster; the kubelet's default too). */
export const DEFAULT_CLUSTER_NAME = "kubeling";

/** iptables refuses longer chain names ("must be under 29 chars"). */
export const MAX_CHAIN_LENGTH = 28;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** base32 of the input's SHA-256 (RFC 4648 alphabet, no padding): upstream's chain hashes. */
export function hashBase32(input: string): string {
  const digest = createHash("sha256").update(input).digest();
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export interface ChainNames {
  /** nat and filter: the service portals. */
  readonly services: string;
  /** nat: node ports (jumped to from services' last rule). */
  readonly nodePorts: string;
  /** filter: rejects for node ports, external and LB IPs without endpoints. */
  readonly externalServices: string;
  /** filter: accepts forwarded service traffic (Docker's FORWARD policy is DROP). */
  readonly forward: string;
  /** filter: blocks non-local traffic to 127.0.0.0/8 (route_localnet's hole, CVE-2020-8558). */
  readonly firewall: string;
  /** filter: drops LB traffic outside loadBalancerSourceRanges. */
  readonly proxyFirewall: string;
  /** nat: masquerades marked packets. */
  readonly postrouting: string;
  /** nat: marks packets for masquerading. */
  readonly markMasq: string;
  /** nat, userspace mode: ClusterIP (and LB) redirects for pods (PREROUTING). */
  readonly portalsContainer: string;
  /** nat, userspace mode: the same for the host's own traffic (OUTPUT). */
  readonly portalsHost: string;
  /** "" for the default cluster, else "-XXXXX". */
  readonly suffix: string;
  /** Mixed into per-service chain hashes ("" for the default cluster: upstream's hashes). */
  readonly hashKey: string;
}

/** chainNames for a cluster (see the header). */
export function chainNames(clusterName = DEFAULT_CLUSTER_NAME): ChainNames {
  const own = clusterName !== DEFAULT_CLUSTER_NAME;
  // Five characters keep the longest name, KUBE-EXTERNAL-SERVICES-XXXXX, at the 28 allowed.
  const suffix = own ? `-${hashBase32(`kubeling-cluster:${clusterName}`).slice(0, 5)}` : "";
  return {
    services: `KUBE-SERVICES${suffix}`,
    nodePorts: `KUBE-NODEPORTS${suffix}`,
    externalServices: `KUBE-EXTERNAL-SERVICES${suffix}`,
    forward: `KUBE-FORWARD${suffix}`,
    firewall: `KUBE-FIREWALL${suffix}`,
    proxyFirewall: `KUBE-PROXY-FIREWALL${suffix}`,
    postrouting: `KUBE-POSTROUTING${suffix}`,
    markMasq: `KUBE-MARK-MASQ${suffix}`,
    portalsContainer: `KUBE-PORTALS-CONTAINER${suffix}`,
    portalsHost: `KUBE-PORTALS-HOST${suffix}`,
    suffix,
    hashKey: own ? `${clusterName}/` : "",
  };
}

/** topLevelChains: every fixed chain of the cluster, by table. */
export function topLevelChains(c: ChainNames): { nat: string[]; filter: string[] } {
  return {
    nat: [c.services, c.nodePorts, c.postrouting, c.markMasq, c.portalsContainer, c.portalsHost],
    filter: [c.services, c.externalServices, c.forward, c.firewall, c.proxyFirewall],
  };
}

/**
 * servicePortChain: upstream's servicePortChainName and its siblings: prefix (KUBE-SVC-,
 * KUBE-SVL-, KUBE-EXT-, KUBE-FW-) + 16 characters of base32(sha256(name + protocol)).
 */
export function servicePortChain(c: ChainNames, prefix: string, name: string, protocol: string): string {
  return `${prefix}${hashBase32(c.hashKey + name + protocol.toLowerCase()).slice(0, 16)}`;
}

/** endpointChain: upstream's servicePortEndpointChainName, KUBE-SEP-<hash of name, protocol, ip:port>. */
export function endpointChain(c: ChainNames, name: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hashBase32(c.hashKey + name + protocol.toLowerCase() + endpoint).slice(0, 16)}`;
}

/** isServiceChain: a per-service or per-endpoint chain name (made and deleted by syncs). */
export function isServiceChain(name: string): boolean {
  return /^KUBE-(SVC|SVL|EXT|FW|SEP)-[A-Z2-7]{16}$/.test(name);
}
