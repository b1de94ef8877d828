// How the API server reaches a kubelet (upstream pkg/kubelet/client: KubeletClientConfig and
// NodeConnectionInfoGetter): over HTTPS at the Node's preferred address and its
// daemonEndpoints.kubeletEndpoint.Port, presenting --kubelet-client-certificate (the kubelet
// authenticates it through its --client-ca-file and authorizes it with a SubjectAccessReview),
// verifying the kubelet's serving certificate against --kubelet-certificate-authority when given
// and not at all otherwise, as upstream (kubelets often serve self-signed certificates).

import { readFileSync } from "node:fs";
import { Agent } from "undici";
import { StatusError } from "#pkg/api/errors.js";
import type { Node } from "#pkg/api/types/index.js";

/** upstream's address types, the values --kubelet-preferred-address-types takes. */
export const KUBELET_ADDRESS_TYPES = ["Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP"];
/**
 * kubeadm's --kubelet-preferred-address-types (upstream's own default puts Hostname first, which
 * a node name that is no DNS name, as the launchers' node-1, does not resolve).
 */
export const DEFAULT_KUBELET_ADDRESS_TYPES = ["InternalIP", "ExternalIP", "Hostname"];

export interface KubeletClientOptions {
  /** --kubelet-client-certificate / --kubelet-client-key. */
  certFile?: string;
  keyFile?: string;
  /** --kubelet-certificate-authority. */
  caFile?: string;
  preferredAddressTypes: string[];
}

/** TLS options of a connection to a kubelet, as node:tls and ws take them. */
export interface KubeletTLS {
  cert?: string;
  key?: string;
  ca?: string;
  rejectUnauthorized: boolean;
}

export class KubeletClient {
  readonly tls: KubeletTLS;
  /** One connection pool per API server for every kubelet (undici keys it by origin). */
  readonly dispatcher: Agent;
  readonly #types: readonly string[];

  constructor(tls: KubeletTLS, preferredAddressTypes: readonly string[] = DEFAULT_KUBELET_ADDRESS_TYPES) {
    this.tls = tls;
    this.#types = preferredAddressTypes;
    this.dispatcher = new Agent({ connect: { ...tls } });
  }

  static fromOptions(o: KubeletClientOptions): KubeletClient {
    const read = (what: string, path: string) => {
      try {
        return readFileSync(path, "utf8");
      } catch (err) {
        throw new Error(`${what} ${path}: ${(err as Error).message}`, { cause: err });
      }
    };
    const tls: KubeletTLS = { rejectUnauthorized: o.caFile !== undefined };
    if (o.certFile) tls.cert = read("--kubelet-client-certificate", o.certFile);
    if (o.keyFile) tls.key = read("--kubelet-client-key", o.keyFile);
    if (o.caFile) tls.ca = read("--kubelet-certificate-authority", o.caFile);
    return new KubeletClient(tls, o.preferredAddressTypes);
  }

  /** upstream GetPreferredNodeAddress: the first address of the first type the node has. */
  nodeAddress(node: Node): string {
    const addrs = node.status?.addresses ?? [];
    for (const type of this.#types) {
      const a = addrs.find((x) => x.type === type && x.address);
      if (a) return a.address;
      // upstream: a Hostname may come from the node's label when the status has none.
      const label = node.metadata.labels?.["kubernetes.io/hostname"];
      if (type === "Hostname" && label) return label;
    }
    const known = addrs.map((a) => `{${a.type} ${a.address}}`).join(" ");
    throw new StatusError(503, "ServiceUnavailable", `no preferred addresses found; known addresses: [${known}]`);
  }

  /** "https://<address>:<port>" of the node's kubelet. */
  baseURL(node: Node): string {
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!port)
      throw new StatusError(503, "ServiceUnavailable", `node ${node.metadata.name ?? ""} has no kubelet endpoint`);
    const host = this.nodeAddress(node);
    return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
