// A sealed data plane (issue 8), on real Docker, from inside a pod of a harness cluster run as
// `npm run up` runs one (--authorization-mode=Node,RBAC, kube-proxy in iptables mode): the pod's
// KUBERNETES_SERVICE_HOST/_PORT (and upstream's KUBERNETES_PORT_* variables) name the `kubernetes`
// Service's cluster IP and port 443, which kube-proxy carries to the API server's advertise address
// on the pods network (the Endpoints default/kubernetes), where an anonymous GET /version over
// https answers with a serving certificate that covers the cluster IP; etcd, the scheduler and the controller-manager, which listen on the
// host's 127.0.0.1 only, cannot be reached at any address of the host; the kubelet, listening on
// its node address (the pods network's gateway) as upstream's does, answers over TLS, and 401
// to a request without credentials.

import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { CONFIGMAPS, ENDPOINTS, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { ensureClientImages, PYTHON_IMAGE } from "../harness/images.js";
import { clusterContainers, execIn, waitPod } from "../harness/kubelet.js";

const NS = "default";

/** The host's IPv4 addresses a pod could try: the pods network's gateway and the host's own interfaces. */
function hostAddresses(gateway: string): string[] {
  const own = Object.entries(networkInterfaces())
    // Other clusters' bridges and container ends are not this host's addresses to probe.
    .filter(([name]) => !name.startsWith("br-") && !name.startsWith("veth"))
    .flatMap(([, addrs]) => (addrs ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => a.address));
  return [...new Set([gateway, ...own])];
}

describe("a sealed data plane: what a pod can reach", () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  let container: string;
  let apiPort: number;
  /** Runs a shell script in the pod's container. */
  const sh = (script: string) => execIn(container, ["sh", "-c", script]);

  before(async () => {
    ensureClientImages();
    c = await startCluster({
      nodes: [{ name: "node-1", onPodNetwork: true }],
      apiserver: { extraArgs: ["--authorization-mode=Node,RBAC"] },
      proxy: { mode: "iptables" },
    });
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      extraArgs: ["--leader-elect=false"],
    });
    apiPort = Number(new URL(c.api.url).port);
    // The cluster CA in the pod, to verify the API server's certificate at the in-cluster address.
    await c.client.create(CONFIGMAPS, NS, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cluster-ca" },
      data: { "ca.crt": c.api.caPem },
    });
    await c.client.create(PODS, NS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "prober" },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            // Python's urllib for https (Debian's busybox wget crashes here), busybox for nc.
            image: PYTHON_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["sleep", "3600"],
            volumeMounts: [{ name: "ca", mountPath: "/ca" }],
          },
        ],
        volumes: [{ name: "ca", configMap: { name: "cluster-ca" } }],
      },
    });
    await waitPod(c.client, NS, "prober", (p: Pod) => p.status?.phase === "Running", {
      timeoutMs: 60_000,
      message: `pod prober Running\n${c.logs()}`,
    });
    const cs = await clusterContainers(c.clusterName, "node-1");
    const app = cs.find(
      (x) => x.Labels["io.kubernetes.pod.name"] === "prober" && x.Labels["io.kubernetes.container.name"] === "c",
    );
    assert.ok(app, "the pod's container runs");
    container = app.Id;
  });

  after(async () => {
    await cm?.stop();
    await c?.stop();
  });

  test("the Endpoints default/kubernetes hold the API server's address on the pods network", async () => {
    const ep = await c.client.get(ENDPOINTS, NS, "kubernetes");
    assert.deepEqual(ep.subsets, [
      { addresses: [{ ip: c.podNetwork.gateway }], ports: [{ name: "https", port: apiPort, protocol: "TCP" }] },
    ]);
  });

  test("KUBERNETES_SERVICE_HOST/_PORT and the KUBERNETES_PORT_* variables name it", async () => {
    const { out } = await sh("env");
    const env = Object.fromEntries(
      out
        .split("\n")
        .filter((l) => l.startsWith("KUBERNETES_"))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    const ip = c.serviceSlot?.firstIP;
    assert.ok(ip, "the cluster has a service slot");
    assert.deepEqual(env, {
      KUBERNETES_SERVICE_HOST: ip,
      KUBERNETES_SERVICE_PORT: "443",
      KUBERNETES_SERVICE_PORT_HTTPS: "443",
      KUBERNETES_PORT: `tcp://${ip}:443`,
      KUBERNETES_PORT_443_TCP: `tcp://${ip}:443`,
      KUBERNETES_PORT_443_TCP_PROTO: "tcp",
      KUBERNETES_PORT_443_TCP_PORT: "443",
      KUBERNETES_PORT_443_TCP_ADDR: ip,
    });
  });

  test("an anonymous GET /version over https answers there, its certificate verified against the cluster CA", async () => {
    // No credentials at all: system:anonymous, whom the bootstrap policy lets read /version.
    const r = await execIn(container, [
      "python3",
      "-c",
      [
        "import os, ssl, urllib.request",
        "ctx = ssl.create_default_context(cafile='/ca/ca.crt')",
        "url = 'https://%s:%s/version' % (os.environ['KUBERNETES_SERVICE_HOST'], os.environ['KUBERNETES_SERVICE_PORT'])",
        "print(urllib.request.urlopen(url, context=ctx, timeout=10).read().decode())",
      ].join("\n"),
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(JSON.parse(r.out).gitVersion, /^v1\./);
  });

  /** probe: nc to each address:port, bounded; "rc=0" when a connection was made and closed. */
  const probe = async (targets: Array<[string, number]>, payload: string) => {
    const script = targets
      .map(([h, p]) => `printf '${payload}' | timeout 5 nc -w 2 ${h} ${p} >/dev/null 2>&1; echo "${h}:${p} rc=$?"`)
      .join("; ");
    const { out } = await sh(script);
    return new Map([...out.matchAll(/^(\S+) rc=(\d+)$/gm)].map((m) => [m[1] as string, Number(m[2])]));
  };

  test("etcd, the scheduler and the controller-manager cannot be reached at any address of the host", async () => {
    const ports = {
      etcd: Number(new URL(c.api.etcd).port),
      scheduler: c.scheduler?.port as number,
      "controller-manager": cm.port,
    };
    const hosts = hostAddresses(c.podNetwork.gateway);
    const targets = hosts.flatMap((h) => Object.values(ports).map((p): [string, number] => [h, p]));
    // The probe itself finds what is there: the API server's port on the gateway (TLS: the
    // plain line makes it close the connection, and nc ends with 0).
    const control = await probe([[c.podNetwork.gateway, apiPort]], "x\\r\\n");
    assert.equal(control.get(`${c.podNetwork.gateway}:${apiPort}`), 0, "the API server is reachable");
    const results = await probe(targets, "GET / HTTP/1.0\\r\\n\\r\\n");
    assert.equal(results.size, targets.length, `every probe reported: ${[...results]}`);
    for (const [target, rc] of results) {
      assert.notEqual(rc, 0, `${target} (${JSON.stringify(ports)}) must not be reachable from a pod`);
    }
  });

  test("the kubelet's port, on its node address, answers over TLS and only to credentials: 401 without", async () => {
    const kubelet = c.kubelets[0];
    assert.ok(kubelet);
    // Its serving certificate is the cluster CA's, for the node address; no credentials: 401.
    const r = await execIn(container, [
      "python3",
      "-c",
      [
        "import ssl, sys, urllib.request, urllib.error",
        "ctx = ssl.create_default_context(cafile='/ca/ca.crt')",
        "try:",
        "    urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10)",
        "    print('200')",
        "except urllib.error.HTTPError as e:",
        "    print(e.code, e.read().decode())",
      ].join("\n"),
      `https://${c.podNetwork.gateway}:${kubelet.port}/containerLogs/${NS}/prober/c`,
    ]);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), "401 Unauthorized");
  });
});
