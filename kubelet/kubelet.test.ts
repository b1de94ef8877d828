// syncPod against FakeRuntime, with pkg/testing's fakes: FakeClient for the API calls the kubelet
// makes (pod status updates, the final pod delete, ConfigMap/Secret watches, TokenRequests), FakeInformer for
// the pods and Services, FakeRecorder for the Events.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import { CONFIGMAPS, PODS, type ResourceType, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { ConfigMap, Pod, Service } from "#pkg/api/types/index.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { FakeClient, FakeInformer, FakeRecorder } from "#pkg/testing/index.js";
import { waitFor } from "../test/harness/wait.js";
import { Kubelet } from "./kubelet.js";
import { FakeRuntime } from "./runtime/fake.js";
import { hashContainer } from "./spec.js";
import type { TokenRequest } from "./token-manager.js";

/** FakeClient answering TokenRequests (serviceaccounts/<name>/token) as the API server does. */
class TokenClient extends FakeClient {
  override async create<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: object,
    opts: Parameters<FakeClient["create"]>[3] = {},
  ): Promise<T> {
    const out = await super.create(r, ns, obj, opts);
    if (r.resource !== "serviceaccounts" || opts.subresource !== "token") return out;
    const status = {
      token: `token-for-${opts.name}`,
      expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString(),
    };
    return { ...out, status } as T;
  }
}

/** Every waiting reason the kubelet wrote into a pod's status, in order. */
function reasons(client: FakeClient, name: string): string[] {
  return client
    .actionsOf("update", PODS)
    .filter((a) => a.name === name && a.subresource === "status")
    .flatMap((a) => ((a.object as Pod).status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason))
    .filter((r): r is string => !!r);
}

const status = (client: FakeClient, name: string) => client.object<Pod>(PODS, "default", name)?.status;

function pod(name: string, spec: Partial<NonNullable<Pod["spec"]>>): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "img:1" }], ...spec },
    status: { phase: "Pending" },
  };
}

describe("Kubelet.syncPod (fake runtime)", () => {
  const root = mkdtempSync(join(tmpdir(), "kubelet-unit-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  function setup() {
    const runtime = new FakeRuntime();
    runtime.images.add("img:1");
    runtime.images.add("pause");
    const client = new TokenClient();
    const informer = new FakeInformer<Pod>();
    const events = new FakeRecorder();
    const kubelet = new Kubelet({
      client,
      informers: new InformerFactory(client),
      pods: informer,
      services: new FakeInformer<Service>(),
      events,
      runtime,
      log: silentLogger,
      nodeName: "n1",
      nodeIP: "192.168.0.1",
      podInfraImage: "pause",
      rootDir: root,
      clock: new FakeClock(),
    });
    /** The API server has the pod, and the kubelet's informer delivers it. */
    const pods = {
      add(p: Pod) {
        if (!client.object(PODS, "default", p.metadata.name ?? "")) client.seed(PODS, p);
        else void client.update(PODS, "default", { ...p, metadata: { ...p.metadata, resourceVersion: undefined } });
        informer.add(client.object<Pod>(PODS, "default", p.metadata.name ?? "") ?? p);
      },
    };
    /** sync: wake the pod's worker and wait until no sync runs (what the PLEG or a resync would do). */
    const sync = async (uid: string) => {
      kubelet.podWorkers.wake(uid);
      await kubelet.podWorkers.idle();
    };
    return { runtime, client, pods, kubelet, events, sync };
  }

  test("creates the sandbox and the containers, and reports Running with the pod IP", async () => {
    const { runtime, client, pods, sync, events } = setup();
    const p = pod("a", {
      containers: [
        { name: "c1", image: "img:1" },
        { name: "c2", image: "img:1" },
      ],
    });
    pods.add(p);
    await sync("uid-a");
    const list = await runtime.list();
    assert.equal(list.filter((c) => c.type === "sandbox").length, 1);
    assert.deepEqual(
      list
        .filter((c) => c.type === "app" && c.state === "running")
        .map((c) => c.name)
        .sort(),
      ["c1", "c2"],
    );
    await waitFor(() => status(client, "a")?.phase === "Running", { timeoutMs: 2000 });
    assert.match(status(client, "a")?.podIP ?? "", /^10\.0\.0\./);
    assert.equal(status(client, "a")?.hostIP, "192.168.0.1");
    const reasons = events.reasons("default/a");
    assert.deepEqual(
      reasons.filter((r) => r === "Started"),
      ["Started", "Started"],
    );
    assert.deepEqual(
      events.events.filter((e) => e.reason === "Created").map((e) => e.message),
      ["Created container: c1", "Created container: c2"],
    );
    assert.ok(!reasons.includes("Failed"), reasons.join(","));
  });

  test("adopts running containers whose hash matches: a sync starts nothing", async () => {
    const { runtime, pods, sync } = setup();
    const p = pod("b", {});
    const sb = await runtime.runSandbox({
      podUid: "uid-b",
      podName: "b",
      podNamespace: "default",
      attempt: 0,
      hostname: "b",
      image: "pause",
      portBindings: [],
      terminationGraceSeconds: 30,
    });
    const id = await runtime.createContainer({
      podUid: "uid-b",
      podName: "b",
      podNamespace: "default",
      name: "c",
      type: "app",
      restartCount: 4,
      hash: hashContainer({ name: "c", image: "img:1" }),
      sandboxId: sb.id,
      image: "img:1",
      env: [],
      tty: false,
      stdin: false,
      terminationGraceSeconds: 30,
    });
    await runtime.startContainer(id);
    runtime.calls.length = 0;
    pods.add(p);
    await sync("uid-b");
    assert.deepEqual(
      runtime.calls.filter((c) => !c.startsWith("pull")),
      [],
    );
  });

  test("a changed container spec replaces the container with restartCount + 1", async () => {
    const { runtime, pods, sync } = setup();
    pods.add(pod("c", {}));
    await sync("uid-c");
    runtime.images.add("img:2");
    pods.add({ ...pod("c", { containers: [{ name: "c", image: "img:2" }] }) });
    await sync("uid-c");
    const app = (await runtime.list()).filter((c) => c.type === "app");
    const running = app.find((c) => c.state === "running");
    assert.equal(running?.image, "img:2");
    assert.equal(running?.restartCount, 1);
  });

  test("restart policies: OnFailure leaves exit 0 alone, Never fails the pod", async () => {
    const { runtime, client, pods, sync } = setup();
    pods.add(pod("ok", { restartPolicy: "OnFailure" }));
    await sync("uid-ok");
    const okId = (await runtime.list()).find((c) => c.podUid === "uid-ok" && c.type === "app")?.id ?? "";
    runtime.exit(okId, 0);
    runtime.calls.length = 0;
    await sync("uid-ok");
    assert.ok(!runtime.calls.some((c) => c.startsWith("create")), runtime.calls.join(","));
    await waitFor(() => status(client, "ok")?.phase === "Succeeded", { timeoutMs: 2000 });

    pods.add(pod("never", { restartPolicy: "Never" }));
    await sync("uid-never");
    const id = (await runtime.list()).find((c) => c.podUid === "uid-never" && c.type === "app")?.id ?? "";
    runtime.exit(id, 2);
    await sync("uid-never");
    await waitFor(() => status(client, "never")?.phase === "Failed", { timeoutMs: 2000 });
    assert.equal(status(client, "never")?.containerStatuses?.[0]?.state?.terminated?.exitCode, 2);
  });

  test("a missing image that cannot be pulled: ErrImagePull, no container", async () => {
    const { runtime, client, pods, sync, events } = setup();
    pods.add(pod("img", { containers: [{ name: "c", image: "nope:1" }] }));
    await sync("uid-img");
    assert.ok(!(await runtime.list()).some((c) => c.type === "app"));
    await waitFor(() => reasons(client, "img").includes("ErrImagePull"), { timeoutMs: 2000 });
    await sync("uid-img");
    await waitFor(() => reasons(client, "img").includes("ImagePullBackOff"), {
      timeoutMs: 2000,
      message: "ImagePullBackOff",
    });
    assert.ok(!(await runtime.list()).some((c) => c.type === "app"));
    const seen = events.events.filter((e) => e.object === "default/img").map((e) => `${e.reason}: ${e.message}`);
    assert.ok(seen.includes('Pulling: Pulling image "nope:1"'), seen.join("\n"));
    assert.ok(seen.includes("Failed: Error: ErrImagePull"), seen.join("\n"));
    assert.ok(seen.includes('BackOff: Back-off pulling image "nope:1"'), seen.join("\n"));
    assert.equal(seen.filter((e) => e.startsWith("BackOff")).length, 1, "one BackOff event per backoff, not per sync");
  });

  test("ConfigMaps come from a watch, not a GET per sync; a ConfigMap created later starts the container", async () => {
    const { runtime, client, pods, sync, events } = setup();
    pods.add(
      pod("cfg", { containers: [{ name: "c", image: "img:1", envFrom: [{ configMapRef: { name: "settings" } }] }] }),
    );
    await sync("uid-cfg");
    assert.ok(!(await runtime.list()).some((c) => c.type === "app"));
    await waitFor(() => reasons(client, "cfg").includes("CreateContainerConfigError"), { timeoutMs: 2000 });
    assert.ok(events.events.some((e) => e.message === 'Error: configmap "settings" not found'));

    const cm: ConfigMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: "default" },
      data: { MODE: "fast" },
    };
    await client.create(CONFIGMAPS, "default", cm);
    // The watch wakes the pod: no resync, no explicit wake.
    const app = await waitFor(
      async () => (await runtime.list()).find((c) => c.type === "app" && c.state === "running"),
      {
        timeoutMs: 2000,
        message: "the container started after its ConfigMap appeared",
      },
    );
    assert.ok(runtime.configs.get(app.id)?.env.includes("MODE=fast"));
    await sync("uid-cfg");
    assert.deepEqual(client.actionsOf("get", CONFIGMAPS), [], "no GET for a watched ConfigMap");
    assert.equal(client.actionsOf("watch", CONFIGMAPS).length, 1, "one watch for the one ConfigMap");
  });

  test("a serviceAccountToken projection: a token requested for the pod as the node, written into the volume", async () => {
    const { runtime, client, pods, sync } = setup();
    pods.add(
      pod("tok", {
        serviceAccountName: "robot",
        volumes: [
          {
            name: "kube-api-access",
            projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3607 } }] },
          },
        ],
        containers: [
          { name: "c", image: "img:1", volumeMounts: [{ name: "kube-api-access", mountPath: "/var/run/secrets" }] },
        ],
      }),
    );
    await sync("uid-tok");
    assert.ok((await runtime.list()).some((c) => c.type === "app" && c.state === "running"));
    const [req] = client.actionsOf("create", SERVICEACCOUNTS);
    assert.ok(req, "a TokenRequest");
    assert.equal(req.subresource, "token");
    assert.equal(req.name, "robot");
    assert.equal(req.namespace, "default");
    assert.deepEqual((req.object as unknown as TokenRequest).spec, {
      audiences: [],
      expirationSeconds: 3607,
      boundObjectRef: { apiVersion: "v1", kind: "Pod", name: "tok", uid: "uid-tok" },
    });
    const file = join(root, "pods", "uid-tok", "volumes", "kube-api-access", "token");
    assert.equal(readFileSync(file, "utf8"), "token-for-robot");
    await sync("uid-tok");
    assert.equal(client.actionsOf("create", SERVICEACCOUNTS).length, 1, "the token is cached between syncs");
  });

  test("a pod the API no longer has: its containers are removed", async () => {
    const { runtime, kubelet } = setup();
    await runtime.runSandbox({
      podUid: "ghost",
      podName: "g",
      podNamespace: "default",
      attempt: 0,
      hostname: "g",
      image: "pause",
      portBindings: [],
      terminationGraceSeconds: 30,
    });
    const r = await kubelet.syncPod("ghost");
    assert.equal(r.done, true);
    assert.equal((await runtime.list()).length, 0);
  });
});
