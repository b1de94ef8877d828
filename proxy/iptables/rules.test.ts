// Golden output of the rule generator for a few services (ClusterIP, NodePort with many
// endpoints, no endpoints, session affinity, a host LoadBalancer over UDP), upstream's chain
// names for the default cluster, and the per-cluster names that keep clusters apart.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Service } from "#pkg/api/types/index.js";
import { buildState } from "../model.js";
import type { EndpointSliceView } from "../slices.js";
import { chainNames, endpointChain, MAX_CHAIN_LENGTH, servicePortChain, topLevelChains } from "./chains.js";
import { generateRules, jumpRules, probability, type RuleConfig } from "./rules.js";

function svc(namespace: string, name: string, spec: NonNullable<Service["spec"]>, status?: Service["status"]): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace, name, creationTimestamp: "2026-01-01T00:00:00Z" },
    spec,
    ...(status ? { status } : {}),
  };
}

function slice(port: { name?: string; port: number; protocol?: string }, ...ips: string[]): EndpointSliceView {
  return { addressType: "IPv4", endpoints: ips.map((ip) => ({ addresses: [ip] })), ports: [port] };
}

function rules(services: Service[], slices: Record<string, EndpointSliceView[]>, cfg: Partial<RuleConfig> = {}) {
  const state = buildState({ services, slicesOf: (ns, n) => slices[`${ns}/${n}`] ?? [] });
  return generateRules(state, { chains: chainNames(), hostname: "node-1", clusterCIDR: "10.0.0.0/8", ...cfg });
}

const lines = (text: string) => text.trim().split("\n");

const FIXED_NAT = [
  "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
  "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
  "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
];
const FIXED_FILTER = [
  "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
];
const NODEPORTS_LAST =
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS';

describe("generateRules", () => {
  it("ClusterIP with one endpoint: upstream's layout and chain names", () => {
    const r = rules([svc("ns1", "svc1", { clusterIP: "172.30.0.41", ports: [{ name: "p80", port: 80 }] })], {
      "ns1/svc1": [slice({ name: "p80", port: 80, protocol: "TCP" }, "10.180.0.1")],
    });
    assert.deepEqual(lines(r.nat), [
      "*nat",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-NODEPORTS - [0:0]",
      ":KUBE-POSTROUTING - [0:0]",
      ":KUBE-MARK-MASQ - [0:0]",
      ":KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]",
      ":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]",
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
      NODEPORTS_LAST,
      ...FIXED_NAT,
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80",
      "COMMIT",
    ]);
    assert.deepEqual(lines(r.filter), [
      "*filter",
      ":KUBE-SERVICES - [0:0]",
      ":KUBE-EXTERNAL-SERVICES - [0:0]",
      ":KUBE-FORWARD - [0:0]",
      ":KUBE-FIREWALL - [0:0]",
      ":KUBE-PROXY-FIREWALL - [0:0]",
      ...FIXED_FILTER,
      "COMMIT",
    ]);
    assert.deepEqual(r.ruleCount, { nat: 10, filter: 4 });
    assert.deepEqual(r.serviceChains.nat, ["KUBE-SVC-XPGD46QRK7WJZT7O", "KUBE-SEP-SXIVWICOYRO3J4NJ"]);
  });

  it("NodePort with four endpoints: 1/4, 1/3, 1/2, then the last unconditionally", () => {
    const r = rules(
      [
        svc("default", "web", {
          type: "NodePort",
          clusterIP: "10.96.0.20",
          ports: [{ name: "http", port: 80, nodePort: 30080 }],
        }),
      ],
      {
        "default/web": [
          slice({ name: "http", port: 8080, protocol: "TCP" }, "172.31.0.7", "172.31.0.5"),
          slice({ name: "http", port: 8080, protocol: "TCP" }, "172.31.0.8", "172.31.0.6"),
        ],
      },
      { clusterCIDR: "172.31.0.0/16" },
    );
    const nat = lines(r.nat).filter((l) => !FIXED_NAT.includes(l) && !l.startsWith(":"));
    assert.deepEqual(nat, [
      "*nat",
      '-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL',
      NODEPORTS_LAST,
      "-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080 -j KUBE-EXT-CDGGSHYLG3RE2FKL",
      '-A KUBE-EXT-CDGGSHYLG3RE2FKL -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ',
      "-A KUBE-EXT-CDGGSHYLG3RE2FKL -j KUBE-SVC-CDGGSHYLG3RE2FKL",
      '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http cluster IP" -m tcp -p tcp -d 10.96.0.20 --dport 80 ! -s 172.31.0.0/16 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 172.31.0.5:8080" -m statistic --mode random --probability 0.2500000000 -j KUBE-SEP-CMALAG253UI5MS45',
      '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 172.31.0.6:8080" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-L5XSZOPYPMTIBEEB',
      '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 172.31.0.7:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-JSVMJ2XX4MF52QC2',
      '-A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> 172.31.0.8:8080" -j KUBE-SEP-BUDFTBRI7XUCERSZ',
      "-A KUBE-SEP-CMALAG253UI5MS45 -m comment --comment default/web:http -s 172.31.0.5 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-CMALAG253UI5MS45 -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 172.31.0.5:8080",
      "-A KUBE-SEP-L5XSZOPYPMTIBEEB -m comment --comment default/web:http -s 172.31.0.6 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-L5XSZOPYPMTIBEEB -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 172.31.0.6:8080",
      "-A KUBE-SEP-JSVMJ2XX4MF52QC2 -m comment --comment default/web:http -s 172.31.0.7 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-JSVMJ2XX4MF52QC2 -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 172.31.0.7:8080",
      "-A KUBE-SEP-BUDFTBRI7XUCERSZ -m comment --comment default/web:http -s 172.31.0.8 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-BUDFTBRI7XUCERSZ -m comment --comment default/web:http -m tcp -p tcp -j DNAT --to-destination 172.31.0.8:8080",
      "COMMIT",
    ]);
  });

  it("probabilities: each endpoint i of n gets 1/(n-i), so every one is picked 1/n of the time", () => {
    assert.equal(probability(3), "0.3333333333");
    assert.equal(probability(2), "0.5000000000");
    assert.equal(probability(100), "0.0100000000");
    for (const n of [2, 3, 7, 50]) {
      let remaining = 1;
      for (let i = 0; i < n; i++) {
        const p = i === n - 1 ? 1 : Number(probability(n - i));
        assert.ok(Math.abs(remaining * p - 1 / n) < 1e-9, `endpoint ${i} of ${n}`);
        remaining *= 1 - p;
      }
    }
  });

  it("no ready endpoints: REJECT in filter for the cluster IP and the node port, no nat chains", () => {
    const r = rules(
      [
        svc("ns6", "svc6", {
          type: "NodePort",
          clusterIP: "172.30.0.46",
          ports: [{ name: "p80", port: 80, nodePort: 30046 }],
        }),
      ],
      {
        "ns6/svc6": [
          {
            addressType: "IPv4",
            endpoints: [{ addresses: ["10.180.0.9"], conditions: { ready: false } }],
            ports: [{ name: "p80", port: 80 }],
          },
        ],
      },
      { randomFully: true },
    );
    assert.deepEqual(lines(r.filter).slice(6, 8), [
      '-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT',
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30046 -j REJECT',
    ]);
    assert.deepEqual(r.serviceChains.nat, []);
    assert.ok(r.nat.includes("-j MASQUERADE --random-fully\n"));
    assert.ok(!r.nat.includes("svc6"));
  });

  it("terminating endpoints serve only while no endpoint is ready (upstream's fallback)", () => {
    const ep = (ip: string, conditions: { ready: boolean; serving: boolean; terminating: boolean }) => ({
      addresses: [ip],
      conditions,
    });
    const service = svc("default", "web", { clusterIP: "10.96.0.20", ports: [{ port: 80 }] });
    const withReady = rules([service], {
      "default/web": [
        {
          addressType: "IPv4",
          endpoints: [
            ep("10.1.0.1", { ready: true, serving: true, terminating: false }),
            ep("10.1.0.2", { ready: false, serving: true, terminating: true }),
          ],
          ports: [{ port: 80 }],
        },
      ],
    });
    assert.ok(withReady.nat.includes("10.1.0.1:80") && !withReady.nat.includes("10.1.0.2"));
    const onlyTerminating = rules([service], {
      "default/web": [
        {
          addressType: "IPv4",
          endpoints: [
            ep("10.1.0.2", { ready: false, serving: true, terminating: true }),
            ep("10.1.0.3", { ready: false, serving: false, terminating: true }),
          ],
          ports: [{ port: 80 }],
        },
      ],
    });
    assert.ok(
      onlyTerminating.nat.includes("--to-destination 10.1.0.2:80") && !onlyTerminating.nat.includes("10.1.0.3"),
    );
  });

  it("session affinity: recent --rcheck per endpoint before the balancing, --set where it DNATs", () => {
    const r = rules(
      [
        svc("default", "sticky", {
          clusterIP: "10.96.0.21",
          sessionAffinity: "ClientIP",
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
          ports: [{ port: 80 }],
        }),
      ],
      { "default/sticky": [slice({ port: 8080 }, "172.31.0.5", "172.31.0.6")] },
      { clusterCIDR: "172.31.0.0/16" },
    );
    const svcRules = lines(r.nat).filter((l) => l.startsWith("-A KUBE-SVC-") || l.startsWith("-A KUBE-SEP-"));
    assert.deepEqual(svcRules, [
      '-A KUBE-SVC-BJWR5DPVIKTHVKZU -m comment --comment "default/sticky cluster IP" -m tcp -p tcp -d 10.96.0.21 --dport 80 ! -s 172.31.0.0/16 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-BJWR5DPVIKTHVKZU -m comment --comment "default/sticky -> 172.31.0.5:8080" -m recent --name KUBE-SEP-WQ4JNJY65L2RQHXB --rcheck --seconds 600 --reap -j KUBE-SEP-WQ4JNJY65L2RQHXB',
      '-A KUBE-SVC-BJWR5DPVIKTHVKZU -m comment --comment "default/sticky -> 172.31.0.6:8080" -m recent --name KUBE-SEP-INFLZXPY43T3RDWO --rcheck --seconds 600 --reap -j KUBE-SEP-INFLZXPY43T3RDWO',
      '-A KUBE-SVC-BJWR5DPVIKTHVKZU -m comment --comment "default/sticky -> 172.31.0.5:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-WQ4JNJY65L2RQHXB',
      '-A KUBE-SVC-BJWR5DPVIKTHVKZU -m comment --comment "default/sticky -> 172.31.0.6:8080" -j KUBE-SEP-INFLZXPY43T3RDWO',
      "-A KUBE-SEP-WQ4JNJY65L2RQHXB -m comment --comment default/sticky -s 172.31.0.5 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-WQ4JNJY65L2RQHXB -m comment --comment default/sticky -m recent --name KUBE-SEP-WQ4JNJY65L2RQHXB --set -m tcp -p tcp -j DNAT --to-destination 172.31.0.5:8080",
      "-A KUBE-SEP-INFLZXPY43T3RDWO -m comment --comment default/sticky -s 172.31.0.6 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-INFLZXPY43T3RDWO -m comment --comment default/sticky -m recent --name KUBE-SEP-INFLZXPY43T3RDWO --set -m tcp -p tcp -j DNAT --to-destination 172.31.0.6:8080",
    ]);
  });

  it("a host LoadBalancer (UDP): its port on 127.0.0.1 and the node IP, through the external chain", () => {
    const r = rules(
      [
        svc("default", "lb", {
          type: "LoadBalancer",
          clusterIP: "10.96.0.22",
          ports: [{ port: 8080, nodePort: 30081, protocol: "UDP" }],
        }),
      ],
      { "default/lb": [slice({ port: 53, protocol: "UDP" }, "172.31.0.5")] },
      { hostAddresses: ["127.0.0.1", "192.0.2.2"] },
    );
    const services = lines(r.nat).filter((l) => l.startsWith("-A KUBE-SERVICES") || l.startsWith("-A KUBE-NODEPORTS"));
    assert.deepEqual(services, [
      '-A KUBE-SERVICES -m comment --comment "default/lb cluster IP" -m udp -p udp -d 10.96.0.22 --dport 8080 -j KUBE-SVC-EN4A6XYT77FV23UE',
      '-A KUBE-SERVICES -m comment --comment "default/lb loadbalancer IP" -m udp -p udp -d 127.0.0.1 --dport 8080 -j KUBE-EXT-EN4A6XYT77FV23UE',
      '-A KUBE-SERVICES -m comment --comment "default/lb loadbalancer IP" -m udp -p udp -d 192.0.2.2 --dport 8080 -j KUBE-EXT-EN4A6XYT77FV23UE',
      NODEPORTS_LAST,
      "-A KUBE-NODEPORTS -m comment --comment default/lb -m udp -p udp --dport 30081 -j KUBE-EXT-EN4A6XYT77FV23UE",
    ]);
    assert.ok(
      r.nat.includes(
        "-A KUBE-SEP-LC3L5WR223OBN6FA -m comment --comment default/lb -m udp -p udp -j DNAT --to-destination 172.31.0.5:53",
      ),
    );
  });

  it("a LoadBalancer with a class is not ours: only its ingress IPs from status are served", () => {
    const r = rules(
      [
        svc(
          "default",
          "other",
          {
            type: "LoadBalancer",
            loadBalancerClass: "example.com/lb",
            clusterIP: "10.96.0.23",
            ports: [{ port: 80, nodePort: 30082 }],
          },
          { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } },
        ),
      ],
      { "default/other": [slice({ port: 80 }, "172.31.0.5")] },
      { hostAddresses: ["127.0.0.1", "192.0.2.2"] },
    );
    assert.ok(r.nat.includes("-d 203.0.113.7 --dport 80"));
    assert.ok(!r.nat.includes("-d 127.0.0.1 --dport 80"));
  });

  it("stale per-service chains are flushed and deleted in the same input; other chains are left", () => {
    const r = rules([], {}, {});
    const withStale = generateRules(
      buildState({ services: [], slicesOf: () => [] }),
      { chains: chainNames(), hostname: "node-1" },
      { nat: ["KUBE-SVC-XPGD46QRK7WJZT7O", "KUBE-SEP-SXIVWICOYRO3J4NJ", "KUBE-SERVICES", "DOCKER"] },
    );
    assert.ok(!r.nat.includes("-X"));
    const nat = lines(withStale.nat);
    assert.ok(nat.includes(":KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]"));
    assert.deepEqual(
      nat.filter((l) => l.startsWith("-X")),
      ["-X KUBE-SVC-XPGD46QRK7WJZT7O", "-X KUBE-SEP-SXIVWICOYRO3J4NJ"],
    );
  });

  it("--nodeport-addresses: one jump to the node ports per CIDR instead of every local address", () => {
    const r = rules([], {}, { nodePortAddresses: ["127.0.0.0/8", "192.0.2.0/24"] });
    const last = lines(r.nat).filter((l) => l.includes("KUBE-NODEPORTS") && l.startsWith("-A KUBE-SERVICES"));
    assert.equal(last.length, 2);
    assert.ok(last[0]?.endsWith("-d 127.0.0.0/8 -j KUBE-NODEPORTS"));
  });

  it("without --cluster-cidr the host's own traffic to a cluster IP is masqueraded", () => {
    const state = buildState({
      services: [svc("ns1", "svc1", { clusterIP: "172.30.0.41", ports: [{ name: "p80", port: 80 }] })],
      slicesOf: () => [slice({ name: "p80", port: 80 }, "10.180.0.1")],
    });
    const r = generateRules(state, { chains: chainNames(), hostname: "node-1" });
    assert.ok(
      r.nat.includes(
        '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
      ),
    );
  });
});

describe("chain names", () => {
  it("the default cluster has upstream's names; another cluster's are its own and fit iptables", () => {
    const def = chainNames();
    assert.equal(def.services, "KUBE-SERVICES");
    assert.equal(servicePortChain(def, "KUBE-SVC-", "ns1/svc1:p80", "TCP"), "KUBE-SVC-XPGD46QRK7WJZT7O");
    assert.equal(endpointChain(def, "ns1/svc1:p80", "TCP", "10.180.0.1:80"), "KUBE-SEP-SXIVWICOYRO3J4NJ");
    const a = chainNames("kl-1a2b3c4d");
    const b = chainNames("kl-5e6f7a8b");
    assert.match(a.services, /^KUBE-SERVICES-[A-Z2-7]{5}$/);
    assert.notEqual(a.services, b.services);
    assert.notEqual(
      servicePortChain(a, "KUBE-SVC-", "ns1/svc1:p80", "TCP"),
      servicePortChain(b, "KUBE-SVC-", "ns1/svc1:p80", "TCP"),
    );
    for (const c of [...topLevelChains(a).nat, ...topLevelChains(a).filter]) assert.ok(c.length <= MAX_CHAIN_LENGTH, c);
    for (const j of jumpRules(a)) assert.ok(j.to.endsWith(a.suffix));
  });
});
