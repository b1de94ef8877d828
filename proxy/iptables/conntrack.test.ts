import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EndpointInfo, ProxyState, ServicePortInfo } from "../model.js";
import { staleFlowDeletions, udpEndpoints } from "./conntrack.js";

const svc = (protocol: "UDP" | "TCP"): ServicePortInfo => ({
  name: "kube-system/kube-dns:dns",
  namespace: "kube-system",
  service: "kube-dns",
  portName: "dns",
  protocol,
  clusterIP: "10.96.0.10",
  port: 53,
  nodePort: 0,
  type: "ClusterIP",
  loadBalancerIPs: [],
  hostLoadBalancer: false,
  loadBalancerSourceRanges: [],
  externalIPs: [],
  externalPolicyLocal: false,
  internalPolicyLocal: false,
});
const ep = (ip: string): EndpointInfo => ({ ip, port: 53, ready: true, serving: true, terminating: false });
const state = (...ips: string[]): ProxyState => ({
  services: [
    { svc: svc("UDP"), endpoints: ips.map(ep) },
    { svc: svc("TCP"), endpoints: ips.map(ep) },
  ],
});

describe("stale UDP conntrack entries", () => {
  it("an endpoint that left: its DNATed flows to the cluster IP are deleted", () => {
    const prev = udpEndpoints(state("10.1.0.1", "10.1.0.2"), "n");
    const cur = udpEndpoints(state("10.1.0.2"), "n");
    assert.deepEqual(staleFlowDeletions(prev, cur), [
      ["-D", "-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.1.0.1"],
    ]);
  });

  it("a first endpoint: every entry of the cluster IP goes; nothing on a first sync or no change", () => {
    assert.deepEqual(staleFlowDeletions(udpEndpoints(state(), "n"), udpEndpoints(state("10.1.0.1"), "n")), [
      ["-D", "-p", "udp", "--orig-dst", "10.96.0.10"],
    ]);
    assert.deepEqual(staleFlowDeletions(new Map(), udpEndpoints(state("10.1.0.1"), "n")), []);
    assert.deepEqual(
      staleFlowDeletions(udpEndpoints(state("10.1.0.1"), "n"), udpEndpoints(state("10.1.0.1"), "n")),
      [],
    );
  });
});
