// The userspace proxier on real sockets, on loopback only: node-port listeners balancing
// round-robin over two local HTTP servers and a UDP echo, a service without endpoints reset at
// once, a host LoadBalancer port, and listeners closed when their service goes. No iptables
// (this process is given none), as on a machine without iptables rights.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "#pkg/runtime/log.js";
import type { EndpointInfo, ProxyState, ServicePortInfo } from "../model.js";
import { UserspaceProxier } from "./proxier.js";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, agent: false }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

function svcPort(o: Partial<ServicePortInfo> & { nodePort: number }): ServicePortInfo {
  return {
    name: "default/web:http",
    namespace: "default",
    service: "web",
    portName: "http",
    protocol: "TCP",
    clusterIP: "10.96.0.10",
    port: 80,
    type: "NodePort",
    loadBalancerIPs: [],
    hostLoadBalancer: false,
    loadBalancerSourceRanges: [],
    externalIPs: [],
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    ...o,
  };
}

const ep = (port: number): EndpointInfo => ({ ip: "127.0.0.1", port, ready: true, serving: true, terminating: false });

describe("UserspaceProxier", () => {
  const servers: Array<http.Server | dgram.Socket> = [];
  const backends: number[] = [];
  let udpBackend = 0;
  const proxier = new UserspaceProxier({
    log: silentLogger,
    hostname: "node-1",
    nodePortAddresses: ["127.0.0.1"],
    hostAddresses: ["127.0.0.1"],
    udpIdleTimeoutMs: 500,
  });

  before(async () => {
    for (const name of ["a", "b"]) {
      const s = http.createServer((_q, r) => r.end(name));
      await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
      servers.push(s);
      backends.push((s.address() as net.AddressInfo).port);
    }
    const u = dgram.createSocket("udp4");
    u.on("message", (m, r) => u.send(`echo:${m.toString()}`, r.port, r.address));
    await new Promise<void>((resolve) => u.bind(0, "127.0.0.1", resolve));
    servers.push(u);
    udpBackend = u.address().port;
  });

  after(async () => {
    await proxier.close();
    for (const s of servers) s.close();
  });

  it("a node port balances new connections round-robin over the ready endpoints", async () => {
    const nodePort = await freePort();
    const state: ProxyState = {
      services: [
        {
          svc: svcPort({ nodePort }),
          endpoints: [ep(backends[0] as number), ep(backends[1] as number), { ...ep(1), ready: false, serving: false }],
        },
      ],
    };
    const r = await proxier.sync(state);
    assert.equal(r.listeners, 1);
    const counts = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const body = await get(nodePort);
      counts.set(body, (counts.get(body) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { a: 50, b: 50 });
  });

  it("UDP: each client flow goes to an endpoint and gets its replies", async () => {
    const nodePort = await freePort();
    await proxier.sync({
      services: [{ svc: svcPort({ nodePort, protocol: "UDP", name: "default/web:dns" }), endpoints: [ep(udpBackend)] }],
    });
    const s = dgram.createSocket("udp4");
    const reply = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no UDP reply")), 2000);
      s.on("message", (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
      s.send("hi", nodePort, "127.0.0.1");
    });
    s.close();
    assert.equal(reply, "echo:hi");
  });

  it("no endpoints: the connection is reset at once; a removed service's listener closes", async () => {
    const nodePort = await freePort();
    await proxier.sync({ services: [{ svc: svcPort({ nodePort }), endpoints: [] }] });
    await assert.rejects(get(nodePort), (err: NodeJS.ErrnoException) => err.code === "ECONNRESET");
    await proxier.sync({ services: [] });
    await assert.rejects(get(nodePort), (err: NodeJS.ErrnoException) => err.code === "ECONNREFUSED");
  });

  it("a host LoadBalancer listens on its service port and reports it served", async () => {
    const port = await freePort();
    const r = await proxier.sync({
      services: [
        {
          svc: svcPort({
            nodePort: 0,
            type: "LoadBalancer",
            port,
            hostLoadBalancer: true,
            service: "lb",
            name: "default/lb:http",
          }),
          endpoints: [ep(backends[1] as number)],
        },
      ],
    });
    assert.deepEqual([...r.servedLoadBalancers], ["default/lb"]);
    assert.equal(await get(port), "b");
  });
});
