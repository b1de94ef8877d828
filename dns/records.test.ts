import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Endpoints, Service } from "#pkg/api/types/index.js";
import { FakeInformer } from "#pkg/testing/index.js";
import { ClusterRecords, type Resolution } from "./records.js";
import { informerState } from "./state.js";

function svc(name: string, spec: NonNullable<Service["spec"]>, ns = "default"): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns }, spec };
}

function records() {
  const services = new FakeInformer<Service>();
  const endpoints = new FakeInformer<Endpoints>();
  const r = new ClusterRecords(informerState(services, endpoints), { zone: "cluster.local" });
  services.add(
    svc("web", {
      clusterIP: "10.96.0.10",
      clusterIPs: ["10.96.0.10"],
      ports: [
        { name: "http", port: 80, protocol: "TCP" },
        { port: 9000, protocol: "TCP" },
      ],
    }),
  );
  services.add(
    svc("db", { clusterIP: "None", ports: [{ name: "pg", port: 5432, protocol: "TCP" }], selector: { app: "db" } }),
  );
  services.add(svc("ext", { type: "ExternalName", externalName: "example.com." }));
  const ep: Endpoints = {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "db", namespace: "default" },
    subsets: [
      {
        addresses: [{ ip: "172.20.0.5", hostname: "db-0" }, { ip: "172.20.0.6" }],
        notReadyAddresses: [{ ip: "172.20.0.7", hostname: "db-2" }],
        ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
      },
    ],
  };
  endpoints.add(ep);
  return { r, services, endpoints };
}

const data = (res: Resolution) =>
  res.kind === "answer"
    ? res.answers.map((a) => `${a.type} ${a.name} ${JSON.stringify("data" in a ? a.data : "")}`)
    : res.kind;

describe("cluster DNS records", () => {
  const { r } = records();

  test("a ClusterIP service: A to its ClusterIP, case and trailing dot ignored; AAAA is NODATA", () => {
    assert.deepEqual(data(r.resolve("web.default.svc.cluster.local", "A")), [
      'A web.default.svc.cluster.local "10.96.0.10"',
    ]);
    assert.deepEqual(data(r.resolve("WEB.Default.svc.cluster.local.", "A")), [
      'A web.default.svc.cluster.local "10.96.0.10"',
    ]);
    assert.equal(data(r.resolve("web.default.svc.cluster.local", "AAAA")), "nodata");
  });

  test("a headless service: the ready addresses; hostnames and dashed IPs name each one", () => {
    assert.deepEqual(data(r.resolve("db.default.svc.cluster.local", "A")), [
      'A db.default.svc.cluster.local "172.20.0.5"',
      'A db.default.svc.cluster.local "172.20.0.6"',
    ]);
    assert.deepEqual(data(r.resolve("db-0.db.default.svc.cluster.local", "A")), [
      'A db-0.db.default.svc.cluster.local "172.20.0.5"',
    ]);
    assert.deepEqual(data(r.resolve("172-20-0-6.db.default.svc.cluster.local", "A")), [
      'A 172-20-0-6.db.default.svc.cluster.local "172.20.0.6"',
    ]);
    // Not ready: not published (no publishNotReadyAddresses).
    assert.equal(data(r.resolve("db-2.db.default.svc.cluster.local", "A")), "nxdomain");
  });

  test("publishNotReadyAddresses publishes the not-ready ones too", () => {
    const { r: r2, services } = records();
    services.add(svc("db", { clusterIP: "None", publishNotReadyAddresses: true, ports: [{ name: "pg", port: 5432 }] }));
    assert.equal((r2.resolve("db.default.svc.cluster.local", "A") as { answers: unknown[] }).answers.length, 3);
    assert.deepEqual(data(r2.resolve("db-2.db.default.svc.cluster.local", "A")), [
      'A db-2.db.default.svc.cluster.local "172.20.0.7"',
    ]);
  });

  test("SRV for named ports: the service for ClusterIPs, each address for headless ones", () => {
    const web = r.resolve("_http._tcp.web.default.svc.cluster.local", "SRV");
    assert.deepEqual(data(web), [
      'SRV _http._tcp.web.default.svc.cluster.local {"priority":0,"weight":100,"port":80,"target":"web.default.svc.cluster.local"}',
    ]);
    assert.equal(web.kind === "answer" && web.additionals.length, 1);
    const db = r.resolve("_pg._tcp.db.default.svc.cluster.local", "SRV");
    assert.deepEqual(data(db), [
      'SRV _pg._tcp.db.default.svc.cluster.local {"priority":0,"weight":100,"port":5432,"target":"db-0.db.default.svc.cluster.local"}',
      'SRV _pg._tcp.db.default.svc.cluster.local {"priority":0,"weight":100,"port":5432,"target":"172-20-0-6.db.default.svc.cluster.local"}',
    ]);
    assert.equal(data(r.resolve("_nope._tcp.web.default.svc.cluster.local", "SRV")), "nxdomain");
    assert.equal(data(r.resolve("_http._udp.web.default.svc.cluster.local", "SRV")), "nxdomain");
  });

  test("ExternalName is a CNAME whatever the type asked", () => {
    assert.deepEqual(data(r.resolve("ext.default.svc.cluster.local", "A")), [
      'CNAME ext.default.svc.cluster.local "example.com"',
    ]);
  });

  test("PTR for ClusterIPs and named headless addresses; other IPs are forwarded", () => {
    assert.deepEqual(data(r.resolve("10.0.96.10.in-addr.arpa", "PTR")), [
      'PTR 10.0.96.10.in-addr.arpa "web.default.svc.cluster.local"',
    ]);
    assert.deepEqual(data(r.resolve("5.0.20.172.in-addr.arpa", "PTR")), [
      'PTR 5.0.20.172.in-addr.arpa "db-0.db.default.svc.cluster.local"',
    ]);
    assert.equal(data(r.resolve("6.0.20.172.in-addr.arpa", "PTR")), "forward");
  });

  test("pods insecure, dns-version, the zone itself; NXDOMAIN for the rest of the zone, forward outside", () => {
    assert.deepEqual(data(r.resolve("172-20-0-9.default.pod.cluster.local", "A")), [
      'A 172-20-0-9.default.pod.cluster.local "172.20.0.9"',
    ]);
    assert.deepEqual(data(r.resolve("dns-version.cluster.local", "TXT")), ['TXT dns-version.cluster.local ["1.1.0"]']);
    assert.equal(r.resolve("cluster.local", "SOA").kind, "answer");
    assert.equal(data(r.resolve("default.svc.cluster.local", "A")), "nodata");
    assert.equal(data(r.resolve("nope.svc.cluster.local", "A")), "nxdomain");
    assert.equal(data(r.resolve("missing.default.svc.cluster.local", "A")), "nxdomain");
    assert.equal(data(r.resolve("web.other.svc.cluster.local", "A")), "nxdomain");
    assert.equal(data(r.resolve("foo.cluster.local", "A")), "nxdomain");
    assert.equal(data(r.resolve("example.com", "A")), "forward");
    assert.equal(data(r.resolve("notcluster.local", "A")), "forward");
  });

  test("a change in the informers shows at the next query", () => {
    const { r: r2, services } = records();
    services.add(svc("late", { clusterIP: "10.96.0.99", ports: [{ port: 80 }] }));
    assert.deepEqual(data(r2.resolve("late.default.svc.cluster.local", "A")), [
      'A late.default.svc.cluster.local "10.96.0.99"',
    ]);
    services.delete(svc("late", {}));
    assert.equal(data(r2.resolve("late.default.svc.cluster.local", "A")), "nxdomain");
  });
});
