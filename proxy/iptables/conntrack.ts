// Stale UDP conntrack entries (upstream's pkg/proxy/conntrack CleanStaleEntries): a UDP flow
// DNATed to an endpoint keeps going there as long as packets keep coming (the entry never times
// out), even after the endpoint left; and packets that arrived while a service had no endpoint
// left entries without DNAT. After a sync, kubeling-proxy deletes the entries of endpoints that
// left a UDP service port, and every entry of a UDP service port that just got its first
// endpoint, with Debian's `conntrack` tool (when it is installed; without it, stale flows end
// when their senders pause for nf_conntrack_udp_timeout).

import { spawn } from "node:child_process";
import { endpointString, type ProxyState, usableEndpoints } from "../model.js";

/** The usable endpoints ("ip:port") of each UDP service port, by "name/UDP". */
export type UdpEndpoints = Map<string, { clusterIP: string; nodePort: number; endpoints: Set<string> }>;

export function udpEndpoints(state: ProxyState, hostname: string): UdpEndpoints {
  const out: UdpEndpoints = new Map();
  for (const { svc, endpoints } of state.services) {
    if (svc.protocol !== "UDP") continue;
    const usable = usableEndpoints(endpoints, {
      ...(svc.internalPolicyLocal ? { local: true } : {}),
      nodeName: hostname,
    });
    out.set(`${svc.name}/UDP`, {
      clusterIP: svc.clusterIP,
      nodePort: svc.nodePort,
      endpoints: new Set(usable.map(endpointString)),
    });
  }
  return out;
}

/** staleFlowDeletions: the `conntrack -D` argument lists for the change from prev to cur. */
export function staleFlowDeletions(prev: UdpEndpoints, cur: UdpEndpoints): string[][] {
  const out: string[][] = [];
  for (const [key, now] of cur) {
    const before = prev.get(key);
    if (!before) continue;
    if (before.endpoints.size === 0 && now.endpoints.size > 0) {
      out.push(["-D", "-p", "udp", "--orig-dst", now.clusterIP]);
      if (now.nodePort > 0) out.push(["-D", "-p", "udp", "--dport", String(now.nodePort)]);
      continue;
    }
    for (const ep of before.endpoints) {
      if (now.endpoints.has(ep)) continue;
      const ip = ep.slice(0, ep.lastIndexOf(":"));
      out.push(["-D", "-p", "udp", "--orig-dst", now.clusterIP, "--dst-nat", ip]);
      if (now.nodePort > 0) out.push(["-D", "-p", "udp", "--dport", String(now.nodePort), "--dst-nat", ip]);
    }
  }
  return out;
}

/** runConntrack runs `conntrack args`; false when the tool is missing (exit 1, "0 flow entries", is fine). */
export function runConntrack(args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("conntrack", args, { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("close", () => resolve(true));
  });
}
