// In-cluster clients (issue 8), on real Docker, in a --authorization-mode=Node,RBAC cluster with
// ServiceAccount admission and a controller-manager (default accounts, kube-root-ca.crt): a pod
// runs as its ServiceAccount through the kube-api-access volume the admission plugin adds (a
// bound token the kubelet requests, the cluster CA, the namespace) and the KUBERNETES_SERVICE_*
// variables, with exactly the permissions its account was bound to: the real kubectl and the
// official Python client's load_incluster_config list pods in its namespace, and get upstream's
// 403 for Secrets and for another namespace. Deleting the pod invalidates its token.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CONFIGMAPS, NAMESPACES, PODS, ROLEBINDINGS, ROLES, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { ConfigMap, Pod } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { BUSYBOX_IMAGE, ensureClientImages, KUBECTL_IMAGE, PYTHON_IMAGE } from "../harness/images.js";
import { clusterContainers, execIn, waitPod, waitPodGone } from "../harness/kubelet.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";

const NS = "team-a";
const OTHER = "team-b";
const SA = "reader";
const USER = `system:serviceaccount:${NS}:${SA}`;
const MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

describe("in-cluster clients run as their ServiceAccount", () => {
  let c: TestCluster;
  let cm: TestControllerManager;

  const pod = (name: string, image: string, extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS },
    spec: {
      serviceAccountName: SA,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "c", image, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
      ...extra,
    },
  });

  /** The id of the pod's container "c", once the pod runs. */
  const containerOf = async (name: string): Promise<string> => {
    await waitPod(c.client, NS, name, (p: Pod) => p.status?.phase === "Running", {
      timeoutMs: 90_000,
      message: `pod ${name} Running\n${c.logs()}`,
    });
    const cs = await clusterContainers(c.clusterName, "node-1");
    const found = cs.find(
      (x) =>
        x.Labels["io.kubernetes.pod.name"] === name &&
        x.Labels["io.kubernetes.pod.namespace"] === NS &&
        x.Labels["io.kubernetes.container.name"] === "c" &&
        x.State === "running",
    );
    assert.ok(found, `the container of pod ${name} runs`);
    return found.Id;
  };

  let kubectlPod: string;
  let pythonPod: string;

  before(async () => {
    ensureClientImages();
    c = await startCluster({
      nodes: ["node-1"],
      apiserver: { serviceAccounts: true, extraArgs: ["--authorization-mode=Node,RBAC"] },
      // In-cluster clients dial the `kubernetes` Service's cluster IP, as upstream's.
      proxy: { mode: "iptables" },
    });
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      extraArgs: ["--leader-elect=false"],
    });
    for (const name of [NS, OTHER])
      await c.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    await c.client.create(SERVICEACCOUNTS, NS, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SA } });
    await c.client.create(ROLES, NS, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "pod-reader" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
    });
    await c.client.create(ROLEBINDINGS, NS, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "reader-reads-pods" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
      subjects: [{ kind: "ServiceAccount", name: SA, namespace: NS }],
    });
    await c.client.create(PODS, NS, pod("kubectl", KUBECTL_IMAGE));
    await c.client.create(PODS, NS, pod("python", PYTHON_IMAGE));
    kubectlPod = await containerOf("kubectl");
    pythonPod = await containerOf("python");
  });

  after(async () => {
    await closeRawAgents();
    await cm?.stop();
    await c?.stop();
  });

  test("the pod got the kube-api-access volume: a token, the cluster CA (kube-root-ca.crt), its namespace", async () => {
    const p = await c.client.get(PODS, NS, "kubectl");
    const volume = p.spec?.volumes?.find((v) => v.name.startsWith("kube-api-access-"));
    assert.ok(volume?.projected, "a projected kube-api-access volume");
    assert.deepEqual(p.spec?.containers[0]?.volumeMounts, [{ name: volume.name, readOnly: true, mountPath: MOUNT }]);
    const root = await c.client.get<ConfigMap>(CONFIGMAPS, NS, "kube-root-ca.crt");
    assert.equal(root.data?.["ca.crt"], c.api.caPem);
    const files = await execIn(kubectlPod, ["sh", "-c", `cat ${MOUNT}/namespace; echo; cat ${MOUNT}/ca.crt`]);
    assert.equal(files.code, 0, files.out);
    assert.equal(files.out, `${NS}\n${c.api.caPem}`);
    const token = await execIn(kubectlPod, ["cat", `${MOUNT}/token`]);
    assert.match(token.out, /^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT");
  });

  test("kubectl in the pod lists its namespace's pods, and gets upstream's 403 for Secrets and another namespace", async () => {
    const list = await execIn(kubectlPod, ["kubectl", "get", "pods", "-o", "name"]);
    assert.equal(list.code, 0, list.out);
    assert.deepEqual(list.out.trim().split("\n").sort(), ["pod/kubectl", "pod/python"]);
    const secrets = await execIn(kubectlPod, ["kubectl", "get", "secrets"]);
    assert.notEqual(secrets.code, 0);
    assert.match(
      secrets.out,
      new RegExp(
        `Error from server \\(Forbidden\\): secrets is forbidden: User "${USER}" cannot list resource "secrets" in API group "" in the namespace "${NS}"`,
      ),
    );
    const other = await execIn(kubectlPod, ["kubectl", "get", "pods", "-n", OTHER]);
    assert.notEqual(other.code, 0);
    assert.match(
      other.out,
      new RegExp(
        `pods is forbidden: User "${USER}" cannot list resource "pods" in API group "" in the namespace "${OTHER}"`,
      ),
    );
    const whoami = await execIn(kubectlPod, [
      "kubectl",
      "auth",
      "whoami",
      "-o",
      "jsonpath={.status.userInfo.username}",
    ]);
    assert.equal(whoami.code, 0, whoami.out);
    assert.equal(whoami.out, USER);
  });

  test("the Python client's load_incluster_config: pods listed, Secrets 403", async () => {
    const script = [
      "from kubernetes import client, config",
      "from kubernetes.client.rest import ApiException",
      "config.load_incluster_config()",
      "v1 = client.CoreV1Api()",
      `print(sorted(p.metadata.name for p in v1.list_namespaced_pod("${NS}").items))`,
      "try:",
      `    v1.list_namespaced_secret("${NS}")`,
      "    print('secrets listed')",
      "except ApiException as e:",
      "    print(e.status)",
    ].join("\n");
    const r = await execIn(pythonPod, ["python3", "-c", script]);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), "['kubectl', 'python']\n403");
  });

  test("deleting the pod invalidates its token", async () => {
    await c.client.create(PODS, NS, pod("holder", BUSYBOX_IMAGE));
    const holder = await containerOf("holder");
    const { out: token } = await execIn(holder, ["cat", `${MOUNT}/token`]);
    const review = () =>
      raw(c.api, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
        token,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
      });
    const before = await review();
    assert.equal(before.status, 201, before.text);
    assert.equal(before.json.status.userInfo.username, USER);
    assert.deepEqual(before.json.status.userInfo.extra["authentication.kubernetes.io/pod-name"], ["holder"]);
    await c.client.delete(PODS, NS, "holder");
    await waitPodGone(c.client, NS, "holder", 60_000);
    const afterDelete = await review();
    assert.equal(afterDelete.status, 401, afterDelete.text);
  });

  test("automountServiceAccountToken: false gets no volume; a pod of a missing account is refused", async () => {
    const noToken = await c.client.create(PODS, NS, {
      ...pod("no-token", BUSYBOX_IMAGE, { automountServiceAccountToken: false }),
    });
    assert.equal(noToken.spec?.volumes, undefined);
    await c.client.delete(PODS, NS, "no-token");
    const r = await raw(c.api, "POST", `/api/v1/namespaces/${NS}/pods`, {
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pod("ghost", BUSYBOX_IMAGE, { serviceAccountName: "ghost" })),
    });
    assert.equal(r.status, 403, r.text);
    assert.equal(
      r.json.message,
      `pods "ghost" is forbidden: error looking up service account ${NS}/ghost: serviceaccount "ghost" not found`,
    );
  });
});
