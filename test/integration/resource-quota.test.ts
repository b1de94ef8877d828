// ResourceQuota and LimitRange end to end against a real API server and etcd, with the resource
// quota controller and the ReplicaSet controller running in-process and the real kubectl: a quota
// of 2 pods stops a 3-replica ReplicaSet at 2 (FailedCreate events with upstream's message) and
// gives usage back when pods go; object counts of other kinds; LimitRange defaults and bounds,
// and a compute quota that the defaults make pods fit.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import { DEPLOYMENTS, EVENTS, LIMITRANGES, NAMESPACES, PODS, REPLICASETS, RESOURCEQUOTAS } from "#pkg/api/resources.js";
import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import type { Event, LimitRange, Pod, ResourceQuota } from "#pkg/api/types/core.js";
import { DeploymentController } from "../../controller-manager/deployment/deployment-controller.js";
import { REPLICA_SET_KIND, ReplicaSetController } from "../../controller-manager/replicaset/replica-set.js";
import { ResourceQuotaController } from "../../controller-manager/resourcequota/resource-quota-controller.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { waitFor } from "../harness/wait.js";

let srv: TestApiServer;
let kc: Kubectl;
const running: RunningController<ResourceQuotaController | ReplicaSetController | DeploymentController>[] = [];

before(async () => {
  srv = await startApiServer();
  kc = kubectlFor(srv.kubeconfigPath);
  running.push(runController(srv, (ctx) => new ResourceQuotaController(ctx)));
  running.push(runController(srv, (ctx) => new ReplicaSetController(ctx, REPLICA_SET_KIND)));
  running.push(runController(srv, (ctx) => new DeploymentController(ctx)));
});

after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  kc?.close();
  await srv?.stop();
});

async function namespace(name: string): Promise<void> {
  await srv.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

/** Creates a quota and waits for the controller to have counted it (admission needs status). */
async function quota(ns: string, name: string, hard: Record<string, string>): Promise<void> {
  await srv.client.create(RESOURCEQUOTAS, ns, {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name },
    spec: { hard },
  });
  await waitFor(
    async () => {
      const q = await srv.client.get(RESOURCEQUOTAS, ns, name);
      return Object.keys(hard).every((k) => q.status?.used?.[k] !== undefined);
    },
    { timeoutMs: 20_000, message: `quota ${ns}/${name} to be counted` },
  );
}

const used = async (ns: string, name: string) => (await srv.client.get(RESOURCEQUOTAS, ns, name)).status?.used ?? {};

const podSpec = { containers: [{ name: "c", image: "busybox", command: ["sleep", "3600"] }] };

describe("ResourceQuota", () => {
  test("a quota of 2 pods stops a 3-replica ReplicaSet at 2, with FailedCreate events", async () => {
    await namespace("quota");
    await quota("quota", "q", { pods: "2" });
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: podSpec },
      },
    };
    await srv.client.create(REPLICASETS, "quota", rs);
    const failed = await waitFor(
      async () => {
        const events = (await srv.client.list(EVENTS, "quota")).items as Event[];
        return events.find((e) => e.reason === "FailedCreate" && e.involvedObject.name === "web");
      },
      { timeoutMs: 30_000, message: "a FailedCreate event" },
    );
    assert.equal(failed.type, "Warning");
    assert.equal(failed.source?.component, "replicaset-controller");
    assert.match(
      failed.message ?? "",
      /^Error creating: pods "web-[a-z0-9]{5}" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2$/,
    );
    assert.equal((await srv.client.list(PODS, "quota")).items.length, 2);
    assert.deepEqual(await used("quota", "q"), { pods: "2" });

    // kubectl shows the quota, and a pod created by hand is refused with the same words.
    const table = await kc.ok(["-n", "quota", "get", "quota"]);
    assert.match(table, /^NAME\s+AGE\s+REQUEST\s+LIMIT\s*$/m);
    assert.match(table, /^q\s+\S+\s+pods: 2\/2\s*$/m);
    const r = await kc.run(["-n", "quota", "run", "extra", "--image=busybox"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /Error from server \(Forbidden\): pods "extra" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2/,
    );

    // Scaling down gives a pod's usage back (the controller replenishes the quota).
    const cur = await srv.client.get(REPLICASETS, "quota", "web");
    await srv.client.update(REPLICASETS, "quota", { ...cur, spec: { ...cur.spec, replicas: 1 } } as ReplicaSet);
    await waitFor(async () => (await used("quota", "q")).pods === "1", {
      timeoutMs: 30_000,
      message: "usage given back",
    });
  });

  test("a 3-replica Deployment stops at 2: FailedCreate on its ReplicaSet, ReplicaFailure on the Deployment", async () => {
    await namespace("deploy-quota");
    await quota("deploy-quota", "q", { pods: "2" });
    await kc.ok(["-n", "deploy-quota", "create", "deployment", "web", "--image=busybox", "--replicas=3"]);
    const failed = await waitFor(
      async () => {
        const events = (await srv.client.list(EVENTS, "deploy-quota")).items as Event[];
        return events.find((e) => e.reason === "FailedCreate" && e.involvedObject.kind === "ReplicaSet");
      },
      { timeoutMs: 30_000, message: "a FailedCreate event of the Deployment's ReplicaSet" },
    );
    assert.match(
      failed.message ?? "",
      /^Error creating: pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2$/,
    );
    const d = await waitFor(
      async () => {
        const cur = (await srv.client.get(DEPLOYMENTS, "deploy-quota", "web")) as Deployment;
        return cur.status?.conditions?.find((c) => c.type === "ReplicaFailure") ? cur : undefined;
      },
      { timeoutMs: 30_000, message: "the Deployment's ReplicaFailure condition" },
    );
    const cond = d.status?.conditions?.find((c) => c.type === "ReplicaFailure");
    assert.equal(cond?.status, "True");
    assert.equal(cond?.reason, "FailedCreate");
    assert.match(cond?.message ?? "", /exceeded quota: q/);
    assert.equal((await srv.client.list(PODS, "deploy-quota")).items.length, 2);
  });

  test("object counts of other kinds: count/deployments.apps", async () => {
    await namespace("counts");
    await quota("counts", "objects", { "count/deployments.apps": "1", configmaps: "1" });
    await kc.ok(["-n", "counts", "create", "deployment", "one", "--image=busybox"]);
    const r = await kc.run(["-n", "counts", "create", "deployment", "two", "--image=busybox"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /deployments\.apps "two" is forbidden: exceeded quota: objects, requested: count\/deployments\.apps=1, used: count\/deployments\.apps=1, limited: count\/deployments\.apps=1/,
    );
    await kc.ok(["-n", "counts", "create", "configmap", "a"]);
    const cm = await kc.run(["-n", "counts", "create", "configmap", "b"]);
    assert.match(
      cm.stderr,
      /configmaps "b" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=1, limited: configmaps=1/,
    );
  });
});

describe("LimitRange", () => {
  test("defaults fill what containers leave out; min and max are enforced", async () => {
    await namespace("limits");
    await kc.ok(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: LimitRange
metadata: {name: cpu-mem, namespace: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 200m, memory: 128Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
`,
    });
    const lr = await srv.client.get(LIMITRANGES, "limits", "cpu-mem");
    assert.deepEqual((lr as LimitRange).spec?.limits[0]?.defaultRequest, { cpu: "100m", memory: "128Mi" });
    assert.match(
      await kc.ok(["-n", "limits", "get", "limits"]),
      /^NAME\s+CREATED AT\s*\ncpu-mem\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s*$/,
    );

    const pod = (await srv.client.create(PODS, "limits", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "defaulted" },
      spec: podSpec,
    })) as Pod;
    assert.deepEqual(pod.spec?.containers[0]?.resources, {
      limits: { cpu: "200m", memory: "128Mi" },
      requests: { cpu: "100m", memory: "128Mi" },
    });
    assert.equal(
      pod.metadata.annotations?.["kubernetes.io/limit-ranger"],
      "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c",
    );
    await assert.rejects(
      srv.client.create(PODS, "limits", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "big" },
        spec: { containers: [{ name: "c", image: "busybox", resources: { limits: { cpu: "2" } } }] },
      }),
      (err) =>
        isStatusError(err) &&
        err.code === 403 &&
        err.message === 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
    );
  });

  test("a compute quota: the defaults make pods fit it, until it is used up", async () => {
    // The namespace of the previous test: its LimitRange gives every container a 100m request.
    await quota("limits", "compute", { "requests.cpu": "250m" });
    const q = (await srv.client.get(RESOURCEQUOTAS, "limits", "compute")) as ResourceQuota;
    assert.equal(q.status?.used?.["requests.cpu"], "100m", "the defaulted pod of the previous test");
    await srv.client.create(PODS, "limits", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "second" },
      spec: podSpec,
    });
    await assert.rejects(
      srv.client.create(PODS, "limits", { apiVersion: "v1", kind: "Pod", metadata: { name: "third" }, spec: podSpec }),
      (err) =>
        isStatusError(err) &&
        err.message ===
          'pods "third" is forbidden: exceeded quota: compute, requested: requests.cpu=100m, used: requests.cpu=200m, limited: requests.cpu=250m',
    );
    // Without a LimitRange, a pod that does not say what it requests is refused under such a quota.
    await namespace("bare");
    await quota("bare", "compute", { "requests.cpu": "1" });
    await assert.rejects(
      srv.client.create(PODS, "bare", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: podSpec }),
      (err) =>
        isStatusError(err) &&
        err.message === 'pods "p" is forbidden: failed quota: compute: must specify requests.cpu for: c',
    );
  });
});
