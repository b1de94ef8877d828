// Service ClusterIP and NodePort allocation against the real API server and etcd, over HTTP and
// with the real kubectl: concurrent creates never share an IP or a port, deletes and type changes
// give them back, and a taken IP or port is refused in upstream's words. Small ranges
// (--service-cluster-ip-range=10.123.0.0/25, --service-node-port-range=30000-30099) make
// collisions between the concurrent random picks likely.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isInvalid, StatusError } from "#pkg/api/errors.js";
import { SERVICES } from "#pkg/api/resources.js";
import type { Service, ServiceSpec } from "#pkg/api/types/core.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";

let srv: TestApiServer;
let kc: Kubectl;
const NS = "default";

function service(name: string, spec: ServiceSpec): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name }, spec: { selector: { app: name }, ...spec } };
}

const create = (name: string, spec: ServiceSpec) => srv.client.create(SERVICES, NS, service(name, spec));
const nodePortOf = (s: Service) => s.spec?.ports?.[0]?.nodePort ?? 0;

/** The message a refused create carries. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StatusError && isInvalid(err), String(err));
    return err.message;
  }
  assert.fail("expected the create to be refused");
}

before(async () => {
  srv = await startApiServer({
    extraArgs: ["--service-cluster-ip-range=10.123.0.0/25", "--service-node-port-range=30000-30099"],
  });
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await srv?.stop();
});

describe("Service allocation", () => {
  let first: Service[] = [];

  test("50 concurrent NodePort creates get 50 distinct ClusterIPs and NodePorts in range", async () => {
    first = await Promise.all(
      Array.from({ length: 50 }, (_, i) => create(`np-${i}`, { type: "NodePort", ports: [{ port: 80 }] })),
    );
    const ips = first.map((s) => s.spec?.clusterIP ?? "");
    const ports = first.map(nodePortOf);
    assert.equal(new Set(ips).size, 50);
    assert.equal(new Set(ports).size, 50);
    for (const ip of ips) {
      assert.match(ip, /^10\.123\.0\.(\d+)$/);
      const last = Number(ip.split(".")[3]);
      // Network, the kubernetes service's .1 and broadcast are never handed out.
      assert.ok(last > 1 && last < 127, ip);
    }
    for (const p of ports) assert.ok(p >= 30000 && p <= 30099, String(p));
    for (const s of first) {
      assert.deepEqual(s.spec?.clusterIPs, [s.spec?.clusterIP]);
      assert.deepEqual(s.spec?.ipFamilies, ["IPv4"]);
      assert.equal(s.spec?.ipFamilyPolicy, "SingleStack");
      assert.equal(s.spec?.externalTrafficPolicy, "Cluster");
    }
    const k = await srv.client.get(SERVICES, NS, "kubernetes");
    assert.equal(k.spec?.clusterIP, "10.123.0.1");
  });

  test("a taken port or IP is refused with upstream's message, also through kubectl", async () => {
    const [a] = first;
    assert.ok(a);
    const port = nodePortOf(a);
    const ip = a.spec?.clusterIP ?? "";
    assert.equal(
      await refusal(create("dup-port", { type: "NodePort", ports: [{ port: 80, nodePort: port }] })),
      `Service "dup-port" is invalid: spec.ports[0].nodePort: Invalid value: ${port}: provided port is already allocated`,
    );
    assert.equal(
      await refusal(create("dup-ip", { clusterIP: ip, ports: [{ port: 80 }] })),
      `Service "dup-ip" is invalid: spec.clusterIPs: Invalid value: []string{"${ip}"}: failed to allocate IP ${ip}: provided IP is already allocated`,
    );
    assert.equal(
      await refusal(create("out-ip", { clusterIP: "10.0.0.1", ports: [{ port: 80 }] })),
      `Service "out-ip" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.123.0.0/25`,
    );
    assert.equal(
      await refusal(create("out-port", { type: "NodePort", ports: [{ port: 80, nodePort: 30100 }] })),
      `Service "out-port" is invalid: spec.ports[0].nodePort: Invalid value: 30100: provided port is not in the valid range. The range of valid ports is 30000-30099`,
    );
    const r = await kc.run(["create", "service", "nodeport", "kc-dup", "--tcp=80:80", `--node-port=${port}`]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(
        `Service "kc-dup" is invalid: spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${port}: provided port is already allocated`,
      ),
    );
    // Nothing of the refused creates stayed allocated: a refused dup-ip did not take a port, etc.
    await assert.rejects(srv.client.get(SERVICES, NS, "kc-dup"));
  });

  test("deletes free every IP and port: 50 concurrent creates then take exactly those", async () => {
    await Promise.all(first.map((s) => srv.client.delete(SERVICES, NS, s.metadata.name ?? "")));
    const again = await Promise.all(
      first.map((s, i) =>
        create(`again-${i}`, {
          type: "NodePort",
          clusterIP: s.spec?.clusterIP ?? "",
          ports: [{ port: 80, nodePort: nodePortOf(s) }],
        }),
      ),
    );
    assert.deepEqual(
      again.map((s) => [s.spec?.clusterIP, nodePortOf(s)]),
      first.map((s) => [s.spec?.clusterIP, nodePortOf(s)]),
    );
    await Promise.all(again.map((s) => srv.client.delete(SERVICES, NS, s.metadata.name ?? "")));
  });

  test("type changes allocate and release: NodePort ↔ ClusterIP ↔ ExternalName ↔ LoadBalancer", async () => {
    const np = await create("flip", { type: "NodePort", ports: [{ port: 80 }] });
    const port = nodePortOf(np);
    const ip = np.spec?.clusterIP ?? "";
    // NodePort → ClusterIP: the node port goes back (another service may take it), the IP stays.
    const cip = await srv.client.patch<Service>(SERVICES, NS, "flip", { spec: { type: "ClusterIP" } }, "merge");
    assert.equal(cip.spec?.clusterIP, ip);
    assert.equal(nodePortOf(cip), 0);
    assert.equal(cip.spec?.externalTrafficPolicy, undefined);
    const taker = await create("taker", { type: "NodePort", ports: [{ port: 80, nodePort: port }] });
    assert.equal(nodePortOf(taker), port);
    // ClusterIP → ExternalName: the IP goes back, the family fields go.
    const ext = await srv.client.patch<Service>(
      SERVICES,
      NS,
      "flip",
      { spec: { type: "ExternalName", externalName: "example.com" } },
      "merge",
    );
    assert.equal(ext.spec?.clusterIP, undefined);
    assert.equal(ext.spec?.ipFamilies, undefined);
    const ipTaker = await create("ip-taker", { clusterIP: ip, ports: [{ port: 80 }] });
    assert.equal(ipTaker.spec?.clusterIP, ip);
    // ExternalName → LoadBalancer: a fresh IP and node port, families back.
    const lb = await srv.client.patch<Service>(
      SERVICES,
      NS,
      "flip",
      { spec: { type: "LoadBalancer", externalName: null } },
      "merge",
    );
    assert.match(lb.spec?.clusterIP ?? "", /^10\.123\.0\./);
    assert.notEqual(lb.spec?.clusterIP, ip);
    assert.ok(nodePortOf(lb) >= 30000 && nodePortOf(lb) !== port);
    assert.deepEqual(lb.spec?.ipFamilies, ["IPv4"]);
    assert.equal(lb.spec?.allocateLoadBalancerNodePorts, true);
    // LoadBalancer → NodePort keeps the node port; a port added to it gets one of its own.
    const np2 = await srv.client.patch<Service>(
      SERVICES,
      NS,
      "flip",
      {
        spec: {
          type: "NodePort",
          ports: [
            { name: "http", port: 80, nodePort: nodePortOf(lb) },
            { name: "https", port: 443 },
          ],
        },
      },
      "merge",
    );
    assert.equal(nodePortOf(np2), nodePortOf(lb));
    const second = np2.spec?.ports?.[1]?.nodePort ?? 0;
    assert.ok(second >= 30000 && second !== nodePortOf(lb));
    // Delete frees both node ports and the IP.
    await srv.client.delete(SERVICES, NS, "flip");
    const reuse = await create("reuse", {
      type: "NodePort",
      clusterIP: lb.spec?.clusterIP ?? "",
      ports: [
        { name: "a", port: 80, nodePort: nodePortOf(lb) },
        { name: "b", port: 443, nodePort: second },
      ],
    });
    assert.equal(reuse.spec?.clusterIP, lb.spec?.clusterIP);
  });

  test("LoadBalancer without node ports, headless, TCP and UDP sharing one node port", async () => {
    const lb = await create("lb-none", {
      type: "LoadBalancer",
      allocateLoadBalancerNodePorts: false,
      ports: [{ port: 80 }],
    });
    assert.equal(nodePortOf(lb), 0);
    const h = await create("headless", { clusterIP: "None", ports: [{ port: 80 }] });
    assert.deepEqual(h.spec?.clusterIPs, ["None"]);
    assert.deepEqual(h.spec?.ipFamilies, ["IPv4"]);
    const dns = await create("dns", {
      type: "NodePort",
      ports: [
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, protocol: "TCP" },
      ],
    });
    assert.equal(dns.spec?.ports?.[0]?.nodePort, dns.spec?.ports?.[1]?.nodePort);
    const out = await kc.ok(["get", "svc", "dns", "headless", "lb-none"]);
    const lines = out.trim().split("\n");
    assert.match(lines[0] ?? "", /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    const port = dns.spec?.ports?.[0]?.nodePort;
    assert.match(out, new RegExp(`dns\\s+NodePort\\s+10\\.123\\.0\\.\\d+\\s+<none>\\s+53:${port}/UDP,53:${port}/TCP`));
    assert.match(out, /headless\s+ClusterIP\s+None\s+<none>\s+80\/TCP/);
    assert.match(out, /lb-none\s+LoadBalancer\s+10\.123\.0\.\d+\s+<pending>\s+80\/TCP/);
  });
});
