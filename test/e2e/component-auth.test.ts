// The components' own ports are authenticated and authorized as upstream's (issue 8, a sealed
// data plane), on real Docker, in a harness cluster under --authorization-mode=Node,RBAC with
// every component under its own identity:
//   - the kubelet's port (HTTPS): 401 without credentials, also from inside a pod; a
//     ServiceAccount token (kubectl create token) without nodes/proxy gets upstream's
//     "Forbidden (user=..., verb=get, resource=nodes, subresource(s)=[proxy])", from a pod too,
//     and 200 once a ClusterRole granting nodes/proxy is bound to it; nodes/metrics alone opens
//     /metrics and nothing else;
//   - the API server still reaches the kubelet (its kubelet-client certificate): kubectl logs and
//     exec work;
//   - the scheduler's and the controller-manager's /metrics: 403 to system:anonymous and to a user
//     without system:monitoring (upstream's Status message), 401 to a bad token, 200 to a client
//     certificate in group system:monitoring and to the ServiceAccount once bound to the
//     system:monitoring ClusterRole; /healthz open to anyone;
//   - the API server's own /metrics goes through its authorization the same way.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  CLUSTERROLEBINDINGS,
  CLUSTERROLES,
  CONFIGMAPS,
  NAMESPACES,
  PODS,
  SERVICEACCOUNTS,
} from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { newCert } from "#pkg/pki/certs.js";
import { CONTROLLER_MANAGER_USER, readCA } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import type { HttpsAnswer, HttpsCredentials } from "../harness/https.js";
import { ensureClientImages, PYTHON_IMAGE } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { clusterContainers, execIn, type TestKubelet, waitPod } from "../harness/kubelet.js";
import { raw } from "../harness/raw-http.js";
import { waitFor } from "../harness/wait.js";

const NS = "auth-e2e";
const SA = "prober";
const SA_USER = `system:serviceaccount:${NS}:${SA}`;

describe("the components' ports: authenticated and authorized as upstream's", () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  let kubelet: TestKubelet;
  let admin: Kubectl;
  /** The ServiceAccount's token (kubectl create token). */
  let token: string;
  /** A client certificate in system:monitoring, signed by the cluster CA. */
  let monitor: HttpsCredentials;
  let prober: string;

  /** An https GET from inside the pod (python's urllib), the cluster CA trusted: "<code> <body>". */
  const fromPod = async (url: string, bearer?: string): Promise<string> => {
    const r = await execIn(prober, [
      "python3",
      "-c",
      [
        "import ssl, sys, urllib.request, urllib.error",
        "ctx = ssl.create_default_context(cafile='/ca/ca.crt')",
        "req = urllib.request.Request(sys.argv[1])",
        "if len(sys.argv) > 2: req.add_header('Authorization', 'Bearer ' + sys.argv[2])",
        "try:",
        "    r = urllib.request.urlopen(req, context=ctx, timeout=10)",
        "    print(r.status, r.read().decode())",
        "except urllib.error.HTTPError as e:",
        "    print(e.code, e.read().decode())",
      ].join("\n"),
      url,
      ...(bearer ? [bearer] : []),
    ]);
    assert.equal(r.code, 0, r.out);
    return r.out.trim();
  };

  before(async () => {
    ensureClientImages();
    c = await startCluster({
      nodes: [
        {
          name: "node-1",
          onPodNetwork: true,
          // Denials are cached 30 s by default (upstream's): short here, so a new binding shows soon.
          extraArgs: ["--authorization-webhook-cache-unauthorized-ttl=1s"],
        },
      ],
      apiserver: { extraArgs: ["--authorization-mode=Node,RBAC"] },
      schedulerArgs: ["--authorization-webhook-cache-unauthorized-ttl=1s"],
    });
    kubelet = c.kubelets[0] as TestKubelet;
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      clientCAFile: c.api.pki.caCert,
      extraArgs: ["--leader-elect=false", "--authorization-webhook-cache-unauthorized-ttl=1s"],
    });
    admin = kubectlFor(c.kubeconfigPath);
    await c.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    await c.client.create(SERVICEACCOUNTS, NS, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SA } });
    token = (await admin.ok(["create", "token", SA, "-n", NS])).trim();
    const pair = await newCert(readCA(c.api.pki), {
      commonName: "prometheus",
      organizations: ["system:monitoring"],
      usages: ["clientAuth"],
    });
    monitor = { cert: pair.cert, key: pair.key };

    // A pod that prints a line, and from which the kubelet's port is tried.
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
        serviceAccountName: SA,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: PYTHON_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", "echo hello from prober; exec sleep 3600"],
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
    const app = (await clusterContainers(c.clusterName, "node-1")).find(
      (x) => x.Labels["io.kubernetes.pod.name"] === "prober" && x.Labels["io.kubernetes.container.name"] === "c",
    );
    assert.ok(app, "the prober's container runs");
    prober = app.Id;
  });

  after(async () => {
    admin?.close();
    await cm?.stop();
    await c?.stop();
  });

  const logsPath = `/containerLogs/${NS}/prober/c`;

  test("the kubelet: 401 without credentials, from the host and from a pod", async () => {
    for (const path of [logsPath, "/metrics", "/healthz", "/stats/summary"]) {
      const r = await kubelet.get(path);
      assert.equal(r.status, 401, path);
      assert.equal(r.body, "Unauthorized");
    }
    assert.equal((await kubelet.get(logsPath, { token: "not-a-token" })).status, 401);
    // Its unauthenticated health lives on the healthz port, on loopback only.
    const h = await fetch(`http://127.0.0.1:${kubelet.healthzPort}/healthz`);
    assert.equal(h.status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${kubelet.healthzPort}/metrics`)).status, 404);
    assert.equal(await fromPod(`https://${c.podNetwork.gateway}:${kubelet.port}${logsPath}`), "401 Unauthorized");
  });

  test("the kubelet: 403 with upstream's message to a ServiceAccount without nodes/proxy, then 200 once bound", async () => {
    const forbidden = `Forbidden (user=${SA_USER}, verb=get, resource=nodes, subresource(s)=[proxy])`;
    const r = await kubelet.get(logsPath, { token });
    assert.equal(r.status, 403, r.body);
    assert.equal(r.body, `${forbidden}\n`);
    assert.equal(
      await fromPod(`https://${c.podNetwork.gateway}:${kubelet.port}${logsPath}`, token),
      `403 ${forbidden}`,
    );
    assert.equal((await kubelet.get("/metrics", { token })).status, 403);

    // nodes/metrics opens /metrics, and only that.
    await bind("kubelet-metrics", [{ apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] }]);
    await waitFor(async () => (await kubelet.get("/metrics", { token })).status === 200, {
      timeoutMs: 20_000,
      message: "nodes/metrics allows the kubelet's /metrics",
    });
    assert.match((await kubelet.get("/metrics", { token })).body, /^kubelet_running_pods \d+$/m);
    assert.equal((await kubelet.get(logsPath, { token })).status, 403);
    assert.equal((await kubelet.get("/stats/summary", { token })).status, 403);

    await bind("kubelet-proxy", [{ apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }]);
    const ok = await waitFor(
      async () => {
        const a = await kubelet.get(logsPath, { token });
        return a.status === 200 ? a : undefined;
      },
      { timeoutMs: 20_000, message: "nodes/proxy allows the kubelet's container logs" },
    );
    assert.match(ok.body, /hello from prober/);
    assert.match(
      await fromPod(`https://${c.podNetwork.gateway}:${kubelet.port}${logsPath}`, token),
      /^200 hello from prober/,
    );
  });

  test("the API server reaches the kubelet with its kubelet-client certificate: kubectl logs and exec", async () => {
    assert.match(await admin.ok(["logs", "prober", "-n", NS]), /hello from prober/);
    assert.equal((await admin.ok(["exec", "prober", "-n", NS, "--", "sh", "-c", "echo exec-ok"])).trim(), "exec-ok");
    const failed = await admin.run(["exec", "prober", "-n", NS, "--", "sh", "-c", "exit 3"]);
    assert.equal(failed.code, 3, failed.stderr);
  });

  const components = (): Array<[string, (path: string, creds?: HttpsCredentials) => Promise<HttpsAnswer>]> => [
    ["scheduler", (path, creds) => (c.scheduler as NonNullable<TestCluster["scheduler"]>).get(path, creds)],
    ["controller-manager", async (path, creds = {}) => ({ headers: {}, ...(await cm.get(path, creds)) })],
  ];

  test("the scheduler's and controller-manager's /metrics: 403 anonymous and without system:monitoring, 200 with it", async () => {
    for (const [name, get] of components()) {
      assert.deepEqual(
        { status: (await get("/healthz")).status, body: (await get("/healthz")).body },
        { status: 200, body: "ok" },
        name,
      );
      const anon = await get("/metrics");
      assert.equal(anon.status, 403, `${name}: ${anon.body}`);
      assert.deepEqual(JSON.parse(anon.body), {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'forbidden: User "system:anonymous" cannot get path "/metrics"',
        reason: "Forbidden",
        code: 403,
      });
      const bad = await get("/metrics", { token: randomBytes(12).toString("hex") });
      assert.equal(bad.status, 401, name);
      assert.equal(JSON.parse(bad.body).reason, "Unauthorized");
      const sa = await get("/metrics", { token });
      assert.equal(sa.status, 403, `${name}: ${sa.body}`);
      assert.equal(JSON.parse(sa.body).message, `forbidden: User "${SA_USER}" cannot get path "/metrics"`);
      const mon = await get("/metrics", monitor);
      assert.equal(mon.status, 200, `${name}: ${mon.body}`);
      assert.match(mon.body, /^process_cpu_seconds_total /m, name);
    }
    // The bootstrap ClusterRole system:monitoring, bound to the ServiceAccount.
    await c.client.create(CLUSTERROLEBINDINGS, undefined, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "prober-monitoring" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:monitoring" },
      subjects: [{ kind: "ServiceAccount", name: SA, namespace: NS }],
    });
    for (const [name, get] of components()) {
      await waitFor(async () => (await get("/metrics", { token })).status === 200, {
        timeoutMs: 20_000,
        message: `${name}: system:monitoring allows /metrics`,
      });
    }
  });

  test("the API server's own /metrics goes through its authorization", async () => {
    const metrics = (t: string | null) => raw(c.api, "GET", "/metrics", { token: t });
    const anon = await metrics(null);
    assert.equal(anon.status, 403);
    assert.equal(anon.json.message, 'forbidden: User "system:anonymous" cannot get path "/metrics"');
    // The ServiceAccount holds system:monitoring since the test before.
    const r = await waitFor(
      async () => {
        const a = await metrics(token);
        return a.status === 200 ? a : undefined;
      },
      { timeoutMs: 20_000, message: "the API server's /metrics for system:monitoring" },
    );
    assert.match(r.text, /^apiserver_request_total/m);
  });

  /** bind makes a ClusterRole with the rules and binds it to the ServiceAccount. */
  async function bind(name: string, rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>) {
    await c.client.create(CLUSTERROLES, undefined, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules,
    });
    await c.client.create(CLUSTERROLEBINDINGS, undefined, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: SA, namespace: NS }],
    });
  }
});
