// Cluster DNS (issue 9), on real Docker: kubeling-dns answers on the pods network's gateway, port
// 53, and keeps kube-system/kube-dns (Service and Endpoints); a pod of a kubelet given that
// address as --cluster-dns gets upstream's ClusterFirst resolv.conf and resolves a Service by its
// short name (the search path), a headless Service to its addresses, an ExternalName to its
// CNAME, an unknown name in the zone to NXDOMAIN; names outside the zone are forwarded to the
// upstream resolver; a kubelet without --cluster-dns points pods at the kube-dns ClusterIP.
// (Connections to ClusterIPs are kube-proxy's part: this test resolves names only.)

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createSocket } from "node:dgram";
import { after, before, describe, test } from "node:test";
import * as dns from "dns-packet";
import { ENDPOINTS, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { KUBE_DNS_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startDns, type TestDns } from "../harness/dns.js";
import { ensureClientImages, PYTHON_IMAGE } from "../harness/images.js";
import { clusterContainers, execIn, waitPod } from "../harness/kubelet.js";
import { ensurePodNetwork } from "../harness/network.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";

/** A fake upstream resolver on 127.0.0.1 answering every A question with 192.0.2.7. */
async function fakeUpstream() {
  const sock = createSocket("udp4");
  sock.on("message", (m, r) => {
    const q = dns.decode(m);
    const name = q.questions?.[0]?.name ?? "";
    sock.send(
      dns.encode({
        type: "response",
        id: q.id ?? 0,
        flags: dns.RECURSION_AVAILABLE,
        questions: q.questions ?? [],
        answers: [{ type: "A", name, ttl: 60, data: "192.0.2.7" }],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  return sock;
}

describe("cluster DNS from a pod", () => {
  let c: TestCluster;
  let d: TestDns;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  let container: string;
  const py = (code: string) => execIn(container, ["python3", "-c", code]);

  before(async () => {
    ensureClientImages();
    upstream = await fakeUpstream();
    // The pods network first, to give node-1's kubelet the server's address there as --cluster-dns
    // (as kubeadm configures kubelets); node-2 finds the server through the kube-dns Service.
    const clusterName = `kl-${randomUUID().slice(0, 8)}`;
    const { gateway } = await ensurePodNetwork(clusterName);
    c = await startCluster({
      clusterName,
      nodes: [{ name: "node-1", onPodNetwork: true, extraArgs: [`--cluster-dns=${gateway}`] }, "node-2"],
    });
    d = await startDns({
      kubeconfigPath: await c.api.kubeconfigFor({ name: KUBE_DNS_USER }),
      address: gateway,
      extraArgs: [`--upstream=127.0.0.1:${upstream.address().port}`],
    });
    await c.client.create(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { ports: [{ name: "http", port: 80 }], selector: { app: "web" } },
    });
    await c.client.create(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db" },
      spec: { clusterIP: "None", ports: [{ name: "pg", port: 5432 }] },
    });
    // A Service without a selector keeps the Endpoints its user writes.
    await c.client.create(ENDPOINTS, NS, {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "db" },
      subsets: [
        {
          addresses: [{ ip: "172.31.0.5", hostname: "db-0" }, { ip: "172.31.0.6" }],
          ports: [{ name: "pg", port: 5432 }],
        },
      ],
    });
    await c.client.create(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ext" },
      spec: { type: "ExternalName", externalName: "example.test" },
    });
    await c.client.create(PODS, NS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "client" },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "c", image: PYTHON_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
      },
    });
    await waitPod(c.client, NS, "client", (p: Pod) => p.status?.phase === "Running", {
      timeoutMs: 60_000,
      message: `pod client Running\n${c.logs()}`,
    });
    const cs = await clusterContainers(c.clusterName, "node-1");
    const app = cs.find(
      (x) => x.Labels["io.kubernetes.pod.name"] === "client" && x.Labels["io.kubernetes.container.name"] === "c",
    );
    assert.ok(app, "the client pod's container runs");
    container = app.Id;
  });

  after(async () => {
    await d?.stop();
    await c?.stop();
    upstream?.close();
  });

  test("kube-system/kube-dns: a ClusterIP Service for 53/UDP and 53/TCP, its Endpoints the server's address", async () => {
    const svc = await c.client.get(SERVICES, "kube-system", "kube-dns");
    assert.match(svc.spec?.clusterIP ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(
      svc.spec?.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`),
      ["dns 53/UDP", "dns-tcp 53/TCP"],
    );
    const ep = await c.client.get(ENDPOINTS, "kube-system", "kube-dns");
    assert.deepEqual(
      ep.subsets?.[0]?.addresses?.map((a) => a.ip),
      [c.podNetwork.gateway],
    );
  });

  test("the pod's resolv.conf is upstream's ClusterFirst one", async () => {
    const r = await execIn(container, ["cat", "/etc/resolv.conf"]);
    assert.match(r.out, new RegExp(`^nameserver ${c.podNetwork.gateway.replaceAll(".", "\\.")}$`, "m"));
    assert.match(r.out, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
    assert.match(r.out, /^options ndots:5/m);
  });

  test("a Service by its short and full names; a headless one to its addresses; ExternalName; NXDOMAIN", async () => {
    const web = await c.client.get(SERVICES, NS, "web");
    const r = await py(
      [
        "import socket",
        "def a(n):",
        "    try: return sorted(socket.gethostbyname_ex(n)[2])",
        "    except socket.gaierror as e: return 'error %d' % e.errno",
        "print(a('web'))",
        "print(a('web.default.svc.cluster.local'))",
        "print(a('db'))",
        "print(a('db-0.db'))",
        "print(socket.gethostbyname_ex('ext')[0])",
        "print(a('nope.default.svc.cluster.local'))",
      ].join("\n"),
    );
    assert.equal(r.code, 0, r.out);
    const lines = r.out.trim().split("\n");
    assert.equal(lines[0], `['${web.spec?.clusterIP}']`);
    assert.equal(lines[1], `['${web.spec?.clusterIP}']`);
    assert.equal(lines[2], "['172.31.0.5', '172.31.0.6']");
    assert.equal(lines[3], "['172.31.0.5']");
    // The CNAME's target (outside the zone) comes from the upstream: its canonical name is the target.
    assert.equal(lines[4], "example.test");
    // EAI_NONAME (-2): the name does not exist.
    assert.equal(lines[5], "error -2");
  });

  test("names outside the zone are answered by the upstream; the server counts its queries", async () => {
    const r = await py("import socket; print(socket.gethostbyname('outside.example'))");
    assert.equal(r.out.trim(), "192.0.2.7");
    const m = await d.get("/metrics");
    assert.equal(m.status, 200);
    assert.match(m.body, /kubeling_dns_requests_total\{proto="udp",type="A"\} \d+/);
    assert.match(m.body, /kubeling_dns_responses_total\{rcode="NXDOMAIN"\} \d+/);
  });

  test("a kubelet without --cluster-dns points ClusterFirst pods at the kube-dns ClusterIP", async () => {
    const svc = await c.client.get(SERVICES, "kube-system", "kube-dns");
    await c.client.create(PODS, NS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "other" },
      spec: {
        nodeName: "node-2",
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "c", image: PYTHON_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
      },
    });
    await waitPod(c.client, NS, "other", (p: Pod) => p.status?.phase === "Running", {
      timeoutMs: 60_000,
      message: `pod other Running\n${c.logs()}`,
    });
    const app = await waitFor(
      async () =>
        (await clusterContainers(c.clusterName, "node-2")).find(
          (x) => x.Labels["io.kubernetes.pod.name"] === "other" && x.Labels["io.kubernetes.container.name"] === "c",
        ),
      { timeoutMs: 10_000, message: "pod other's container" },
    );
    const r = await execIn(app.Id, ["cat", "/etc/resolv.conf"]);
    assert.match(r.out, new RegExp(`^nameserver ${(svc.spec?.clusterIP ?? "").replaceAll(".", "\\.")}$`, "m"));
  });
});
