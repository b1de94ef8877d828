import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import * as dns from "dns-packet";
import type { Endpoints, Service } from "#pkg/api/types/index.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { FakeInformer } from "#pkg/testing/index.js";
import { Forwarder } from "./forwarder.js";
import { ClusterRecords } from "./records.js";
import { DnsServer } from "./server.js";
import { informerState } from "./state.js";

let nextId = 1;

/** One UDP query to 127.0.0.1:port; the decoded response. */
function queryUdp(port: number, name: string, type: dns.RecordType, extra: Partial<dns.Packet> = {}) {
  return new Promise<dns.DecodedPacket & { rcode?: string }>((resolve, reject) => {
    const sock = createSocket("udp4");
    const id = nextId++;
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer for ${name}`));
    }, 3000);
    sock.on("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(dns.decode(m) as dns.DecodedPacket & { rcode?: string });
    });
    sock.send(
      dns.encode({ type: "query", id, flags: dns.RECURSION_DESIRED, questions: [{ type, name }], ...extra }),
      port,
      "127.0.0.1",
    );
  });
}

function queryTcp(port: number, name: string, type: dns.RecordType) {
  return new Promise<dns.DecodedPacket & { rcode?: string }>((resolve, reject) => {
    const sock = connect({ port, host: "127.0.0.1" });
    let buf = Buffer.alloc(0);
    sock.on("error", reject);
    sock.on("connect", () =>
      sock.write(dns.streamEncode({ type: "query", id: nextId++, questions: [{ type, name }] })),
    );
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(dns.decode(buf.subarray(2)) as dns.DecodedPacket & { rcode?: string });
      }
    });
  });
}

describe("DnsServer", () => {
  const services = new FakeInformer<Service>();
  const endpoints = new FakeInformer<Endpoints>();
  let server: DnsServer;
  let port: number;
  /** A fake upstream resolver that answers every A question with 192.0.2.1. */
  const upstream = createSocket("udp4");
  let upstreamQueries = 0;

  before(async () => {
    upstream.on("message", (m, r) => {
      upstreamQueries++;
      const q = dns.decode(m);
      const question = q.questions?.[0];
      upstream.send(
        dns.encode({
          type: "response",
          id: q.id ?? 0,
          flags: dns.RECURSION_AVAILABLE,
          questions: q.questions ?? [],
          answers: question ? [{ type: "A", name: question.name, ttl: 60, data: "192.0.2.1" }] : [],
        }),
        r.port,
        r.address,
      );
    });
    await new Promise<void>((resolve) => upstream.bind(0, "127.0.0.1", resolve));
    services.add({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80 }] },
    });
    services.add({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ext", namespace: "default" },
      spec: { type: "ExternalName", externalName: "example.com" },
    });
    // A headless service with more addresses than fit 512 bytes.
    services.add({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "many", namespace: "default" },
      spec: { clusterIP: "None" },
    });
    endpoints.add({
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "many", namespace: "default" },
      subsets: [{ addresses: Array.from({ length: 60 }, (_, i) => ({ ip: `172.20.1.${i + 1}` })) }],
    });
    server = new DnsServer({
      records: new ClusterRecords(informerState(services, endpoints), { zone: "cluster.local" }),
      forwarder: new Forwarder({ upstreams: [{ host: "127.0.0.1", port: upstream.address().port }] }),
      registry: newRegistry({ processMetrics: false }),
      log: silentLogger,
    });
    port = await server.listen(0, "127.0.0.1");
  });

  after(async () => {
    await server.close();
    upstream.close();
  });

  test("a service's A record over UDP and TCP, authoritative, with the query's id", async () => {
    for (const r of [
      await queryUdp(port, "web.default.svc.cluster.local", "A"),
      await queryTcp(port, "web.default.svc.cluster.local", "A"),
    ]) {
      assert.equal(r.rcode, "NOERROR");
      assert.equal(r.flag_aa, true);
      assert.deepEqual(
        r.answers?.map((a) => ("data" in a ? a.data : undefined)),
        ["10.96.0.10"],
      );
    }
  });

  test("NXDOMAIN and NODATA carry the zone's SOA", async () => {
    const nx = await queryUdp(port, "nope.default.svc.cluster.local", "A");
    assert.equal(nx.rcode, "NXDOMAIN");
    assert.equal(nx.authorities?.[0]?.type, "SOA");
    const nodata = await queryUdp(port, "web.default.svc.cluster.local", "AAAA");
    assert.equal(nodata.rcode, "NOERROR");
    assert.equal(nodata.answers?.length, 0);
    assert.equal(nodata.authorities?.[0]?.type, "SOA");
  });

  test("names outside the zone go to the upstream, and its answer is cached", async () => {
    const before = upstreamQueries;
    const a = await queryUdp(port, "example.com", "A");
    assert.equal(a.rcode, "NOERROR");
    assert.deepEqual(
      a.answers?.map((x) => ("data" in x ? x.data : undefined)),
      ["192.0.2.1"],
    );
    const again = await queryUdp(port, "example.com", "A");
    assert.deepEqual(
      again.answers?.map((x) => ("data" in x ? x.data : undefined)),
      ["192.0.2.1"],
    );
    assert.equal(upstreamQueries, before + 1, "the second answer came from the cache");
  });

  test("over UDP a large answer is truncated (TC) unless EDNS0 allows it; TCP gets it whole", async () => {
    const udp = await queryUdp(port, "many.default.svc.cluster.local", "A");
    assert.equal(udp.flag_tc, true);
    assert.equal(udp.answers?.length, 0);
    const edns = await queryUdp(port, "many.default.svc.cluster.local", "A", {
      additionals: [
        {
          type: "OPT",
          name: ".",
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    assert.equal(edns.flag_tc, false);
    assert.equal(edns.answers?.length, 60);
    const tcp = await queryTcp(port, "many.default.svc.cluster.local", "A");
    assert.equal(tcp.answers?.length, 60);
  });

  test("an ExternalName's CNAME comes with its target's records, as CoreDNS answers", async () => {
    const r = await queryUdp(port, "ext.default.svc.cluster.local", "A");
    assert.deepEqual(
      r.answers?.map((a) => `${a.type} ${"data" in a ? a.data : ""}`),
      ["CNAME example.com", "A 192.0.2.1"],
    );
  });

  test("an upstream that does not answer is SERVFAIL", async () => {
    const dead = new DnsServer({
      records: new ClusterRecords(informerState(new FakeInformer(), new FakeInformer()), { zone: "cluster.local" }),
      forwarder: new Forwarder({ upstreams: [{ host: "127.0.0.1", port: 9 }], timeoutMs: 200 }),
      registry: newRegistry({ processMetrics: false }),
      log: silentLogger,
    });
    const p = await dead.listen(0, "127.0.0.1");
    try {
      assert.equal((await queryUdp(p, "example.org", "A")).rcode, "SERVFAIL");
    } finally {
      await dead.close();
    }
  });
});
