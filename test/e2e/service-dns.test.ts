// Services by name, end to end (issue 9), on real Docker: kubeling-proxy (iptables), the
// controller-manager's Endpoints and EndpointSlice controllers and kubeling-dns together, wired
// as the issue says with no flag: kubeling-dns keeps kube-system/kube-dns, the kubelet (no
// --cluster-dns) gives pods that Service's ClusterIP as nameserver, and kube-proxy carries the
// queries (UDP) to the server. From inside a pod, `web`, `web.default.svc.cluster.local` and the
// ClusterIP answer over HTTP, a headless Service resolves to the ready pods' IPs, and an unknown
// name in the zone is NXDOMAIN.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEPLOYMENTS, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER, KUBE_DNS_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { startDns, type TestDns } from "../harness/dns.js";
import { ensureClientImages, PYTHON_IMAGE } from "../harness/images.js";
import { clusterContainers, execIn, waitPod } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
const NODE_IMAGE = "kubeling.local/node:20";
const SERVER =
  "require('http').createServer((q, s) => s.end(require('os').hostname())).listen(8080); process.on('SIGTERM', () => process.exit(0));";

describe("Services by name from a pod: kube-proxy, the endpoint controllers and kubeling-dns", () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  let d: TestDns;
  let client: string;
  const py = (code: string) => execIn(client, ["python3", "-c", code]);

  before(async () => {
    ensureClientImages();
    c = await startCluster({ nodes: [{ name: "node-1", onPodNetwork: true }], proxy: { mode: "iptables" } });
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      extraArgs: ["--leader-elect=false"],
    });
    d = await startDns({
      kubeconfigPath: await c.api.kubeconfigFor({ name: KUBE_DNS_USER }),
      address: c.podNetwork.gateway,
      extraArgs: ["--upstream=127.0.0.1:9"],
    });
    await c.client.create(DEPLOYMENTS, NS, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: "web",
                image: NODE_IMAGE,
                imagePullPolicy: "IfNotPresent",
                command: ["node", "-e", SERVER],
                readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
    for (const [name, clusterIP] of [
      ["web", undefined],
      ["web-headless", "None"],
    ] as const)
      await c.client.create(SERVICES, NS, {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name },
        spec: {
          ...(clusterIP ? { clusterIP } : {}),
          selector: { app: "web" },
          ports: [{ name: "http", port: 80, targetPort: 8080 }],
        },
      });
    await c.client.create(PODS, NS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "client" },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "c", image: PYTHON_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
      },
    });
    await waitPod(c.client, NS, "client", (p: Pod) => p.status?.phase === "Running", {
      timeoutMs: 90_000,
      message: `pod client Running\n${c.logs()}`,
    });
    const app = (await clusterContainers(c.clusterName, "node-1")).find(
      (x) => x.Labels["io.kubernetes.pod.name"] === "client" && x.Labels["io.kubernetes.container.name"] === "c",
    );
    assert.ok(app, "the client pod's container runs");
    client = app.Id;
  });

  after(async () => {
    await d?.stop();
    await cm?.stop();
    await c?.stop();
  });

  /** The web pods once both are Ready: name → IP. */
  const readyWeb = () =>
    waitFor(
      async () => {
        const pods = (await c.client.list(PODS, NS, { labelSelector: "app=web" })).items.filter((p) =>
          p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True"),
        );
        return pods.length === 2 ? new Map(pods.map((p) => [p.metadata.name ?? "", p.status?.podIP ?? ""])) : undefined;
      },
      { timeoutMs: 90_000, message: `2 web pods Ready\n${c.logs()}` },
    );

  test("the pod's nameserver is the kube-dns ClusterIP, with no --cluster-dns anywhere", async () => {
    const svc = await c.client.get(SERVICES, "kube-system", "kube-dns");
    const r = await execIn(client, ["cat", "/etc/resolv.conf"]);
    assert.match(r.out, new RegExp(`^nameserver ${(svc.spec?.clusterIP ?? "-").replaceAll(".", "\\.")}$`, "m"));
  });

  test("web, web.default.svc.cluster.local and the ClusterIP answer over HTTP from the pod", async () => {
    const pods = await readyWeb();
    const web = await c.client.get(SERVICES, NS, "web");
    // The slices follow readiness within a second; a fresh pod may need that second.
    const r = await waitFor(
      async () => {
        const out = await py(
          [
            "import urllib.request",
            "for h in ['web', 'web.default.svc.cluster.local', '" + (web.spec?.clusterIP ?? "") + "']:",
            "    print(urllib.request.urlopen('http://%s/' % h, timeout=5).read().decode())",
          ].join("\n"),
        );
        return out.code === 0 ? out : undefined;
      },
      { timeoutMs: 30_000, message: "HTTP through the Service from the pod" },
    );
    for (const body of r.out.trim().split("\n")) assert.ok(pods.has(body), `answered by a web pod: ${body}`);
  });

  test("a headless Service resolves to the ready pods' IPs; an unknown name is NXDOMAIN", async () => {
    const pods = await readyWeb();
    const want = `${JSON.stringify([...pods.values()].sort())
      .replaceAll('"', "'")
      .replaceAll(",", ", ")}`;
    const r = await waitFor(
      async () => {
        const out = await py(
          [
            "import socket",
            "print(sorted(socket.gethostbyname_ex('web-headless')[2]))",
            "try: socket.gethostbyname('nope.default.svc.cluster.local'); print('found')",
            "except socket.gaierror as e: print(e.errno)",
          ].join("\n"),
        );
        return out.code === 0 && out.out.startsWith(want) ? out : undefined;
      },
      { timeoutMs: 30_000, message: `web-headless resolves to ${want}` },
    );
    assert.equal(r.out.trim().split("\n")[1], "-2");
  });
});
