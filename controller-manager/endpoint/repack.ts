// RepackSubsets (upstream pkg/api/v1/endpoints/util.go): one subset per pod and port, folded into
// the fewest subsets the API wants: addresses offering the same ports share a subset, an address
// ready for one port counts as ready for it, and everything is sorted so that the same endpoints
// always give the same object (the controller compares before it writes).

import type { EndpointAddress, EndpointPort, EndpointSubset } from "#pkg/api/types/core.js";

const addressKey = (a: EndpointAddress) => `${a.ip}/${a.targetRef?.uid ?? ""}`;
const portKey = (p: EndpointPort) => `${p.name ?? ""}/${p.port}/${p.protocol ?? ""}/${p.appProtocol ?? ""}`;

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  return compareIPs(a.ip, b.ip) || (a.targetRef?.uid ?? "").localeCompare(b.targetRef?.uid ?? "");
}

/** IPv4 numerically, else as text. */
function compareIPs(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  if (pa.length === 4 && pb.length === 4 && [...pa, ...pb].every((n) => Number.isInteger(n))) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  return (
    (a.name ?? "").localeCompare(b.name ?? "") || a.port - b.port || (a.protocol ?? "").localeCompare(b.protocol ?? "")
  );
}

/** Sorts addresses and ports within subsets, and the subsets (upstream SortSubsets, with a stable order). */
export function sortSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  for (const ss of subsets) {
    ss.addresses?.sort(compareAddresses);
    ss.notReadyAddresses?.sort(compareAddresses);
    ss.ports?.sort(comparePorts);
  }
  const keyOf = (ss: EndpointSubset) =>
    JSON.stringify([
      (ss.ports ?? []).map(portKey),
      (ss.addresses ?? []).map(addressKey),
      (ss.notReadyAddresses ?? []).map(addressKey),
    ]);
  return subsets.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** upstream RepackSubsets. */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  // port key -> (address key -> ready); a port-less subset uses a sentinel port.
  const byPort = new Map<string, { port: EndpointPort | undefined; ready: Map<string, boolean> }>();
  const note = (a: EndpointAddress, port: EndpointPort | undefined, ready: boolean) => {
    const ak = addressKey(a);
    if (!addrs.has(ak)) addrs.set(ak, structuredClone(a));
    const pk = port ? portKey(port) : "";
    let entry = byPort.get(pk);
    if (!entry) {
      entry = { port, ready: new Map() };
      byPort.set(pk, entry);
    }
    if (entry.ready.get(ak) !== true) entry.ready.set(ak, ready);
  };
  for (const ss of subsets) {
    const ports: Array<EndpointPort | undefined> = ss.ports?.length ? ss.ports : [undefined];
    for (const port of ports) {
      for (const a of ss.addresses ?? []) note(a, port, true);
      for (const a of ss.notReadyAddresses ?? []) note(a, port, false);
    }
  }
  // Group ports by the exact set of (address, readiness) offering them.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const key = JSON.stringify([...ready.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let g = groups.get(key);
    if (!g) {
      g = { ready, ports: [] };
      groups.set(key, g);
    }
    if (port) g.ports.push(structuredClone(port));
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ss: EndpointSubset = {};
    const ready = [...g.ready].filter(([, r]) => r).map(([k]) => addrs.get(k) as EndpointAddress);
    const notReady = [...g.ready].filter(([, r]) => !r).map(([k]) => addrs.get(k) as EndpointAddress);
    if (ready.length) ss.addresses = ready;
    if (notReady.length) ss.notReadyAddresses = notReady;
    if (g.ports.length) ss.ports = g.ports;
    out.push(ss);
  }
  return sortSubsets(out);
}
