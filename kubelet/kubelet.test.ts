// syncPod against FakeRuntime and an in-memory stand-in for the few API calls the kubelet makes
// (pod status updates, the final pod delete, ConfigMap/Secret/Service reads).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { notFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { Kubelet } from "./kubelet.js";
import { FakeRuntime } from "./runtime/fake.js";
import type { EventSink, PodSource } from "./sources.js";
import { hashContainer } from "./spec.js";
import { VolumeManager } from "./volumes.js";

/** FakeApi records pod status writes and deletes; other reads answer NotFound or empty lists. */
class FakeApi {
  readonly statuses = new Map<string, Pod["status"]>();
  /** Every waiting reason ever written, per pod. */
  readonly reasons = new Map<string, string[]>();
  readonly deleted: string[] = [];
  async update<T>(_r: ResourceInfo, _ns: string | undefined, obj: KubeObject): Promise<T> {
    const name = obj.metadata.name ?? "";
    this.statuses.set(name, structuredClone((obj as Pod).status));
    for (const c of (obj as Pod).status?.containerStatuses ?? [])
      if (c.state?.waiting?.reason) this.reasons.set(name, [...(this.reasons.get(name) ?? []), c.state.waiting.reason]);
    return obj as T;
  }
  async get(r: ResourceInfo, _ns: string | undefined, name: string): Promise<never> {
    throw notFound({ group: r.group, resource: r.resource }, name);
  }
  async list() {
    return { metadata: {}, items: [] };
  }
  async delete(_r: ResourceInfo, _ns: string | undefined, name: string) {
    this.deleted.push(name);
    return { metadata: {} };
  }
}

class FakePods implements PodSource {
  private readonly handlers: Record<string, ((...a: Pod[]) => void)[]> = { add: [], update: [], delete: [] };
  private readonly store = new Map<string, Pod>();
  on(ev: "add" | "update" | "delete", h: (...a: Pod[]) => void): void {
    this.handlers[ev]?.push(h);
  }
  async run(): Promise<void> {}
  async waitForSync(): Promise<void> {}
  get(key: string) {
    return this.store.get(key);
  }
  list() {
    return [...this.store.values()];
  }
  add(p: Pod): void {
    this.store.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
    for (const h of this.handlers.add ?? []) h(p);
  }
}

const events: EventSink & { seen: string[] } = {
  seen: [],
  event(_o, _t, reason) {
    this.seen.push(reason);
  },
};

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
    const api = new FakeApi();
    const pods = new FakePods();
    const client = api as unknown as ApiClient;
    const kubelet = new Kubelet({
      client,
      pods,
      events,
      runtime,
      log: silentLogger,
      nodeName: "n1",
      nodeIP: "192.168.0.1",
      podInfraImage: "pause",
      volumes: new VolumeManager({ rootDir: root, client, log: silentLogger }),
    });
    return { runtime, api, pods, kubelet };
  }

  test("creates the sandbox and the containers, and reports Running with the pod IP", async () => {
    const { runtime, api, pods, kubelet } = setup();
    const p = pod("a", {
      containers: [
        { name: "c1", image: "img:1" },
        { name: "c2", image: "img:1" },
      ],
    });
    pods.add(p);
    await kubelet.syncNow("uid-a");
    const list = await runtime.list();
    assert.equal(list.filter((c) => c.type === "sandbox").length, 1);
    assert.deepEqual(
      list
        .filter((c) => c.type === "app" && c.state === "running")
        .map((c) => c.name)
        .sort(),
      ["c1", "c2"],
    );
    await waitUntil(() => api.statuses.get("a")?.phase === "Running");
    assert.match(api.statuses.get("a")?.podIP ?? "", /^10\.0\.0\./);
    assert.equal(api.statuses.get("a")?.hostIP, "192.168.0.1");
  });

  test("adopts running containers whose hash matches: a sync starts nothing", async () => {
    const { runtime, pods, kubelet } = setup();
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
    await kubelet.syncNow("uid-b");
    assert.deepEqual(
      runtime.calls.filter((c) => !c.startsWith("pull")),
      [],
    );
  });

  test("a changed container spec replaces the container with restartCount + 1", async () => {
    const { runtime, pods, kubelet } = setup();
    pods.add(pod("c", {}));
    await kubelet.syncNow("uid-c");
    runtime.images.add("img:2");
    pods.add({ ...pod("c", { containers: [{ name: "c", image: "img:2" }] }) });
    await kubelet.syncNow("uid-c");
    const app = (await runtime.list()).filter((c) => c.type === "app");
    const running = app.find((c) => c.state === "running");
    assert.equal(running?.image, "img:2");
    assert.equal(running?.restartCount, 1);
  });

  test("restart policies: OnFailure leaves exit 0 alone, Never fails the pod", async () => {
    const { runtime, api, pods, kubelet } = setup();
    pods.add(pod("ok", { restartPolicy: "OnFailure" }));
    await kubelet.syncNow("uid-ok");
    const okId = (await runtime.list()).find((c) => c.podUid === "uid-ok" && c.type === "app")?.id ?? "";
    runtime.exit(okId, 0);
    runtime.calls.length = 0;
    await kubelet.syncNow("uid-ok");
    assert.ok(!runtime.calls.some((c) => c.startsWith("create")), runtime.calls.join(","));
    await waitUntil(() => api.statuses.get("ok")?.phase === "Succeeded");

    pods.add(pod("never", { restartPolicy: "Never" }));
    await kubelet.syncNow("uid-never");
    const id = (await runtime.list()).find((c) => c.podUid === "uid-never" && c.type === "app")?.id ?? "";
    runtime.exit(id, 2);
    await kubelet.syncNow("uid-never");
    await waitUntil(() => api.statuses.get("never")?.phase === "Failed");
    assert.equal(api.statuses.get("never")?.containerStatuses?.[0]?.state?.terminated?.exitCode, 2);
  });

  test("a missing image that cannot be pulled: ErrImagePull, no container", async () => {
    const { runtime, api, pods, kubelet } = setup();
    pods.add(pod("img", { containers: [{ name: "c", image: "nope:1" }] }));
    await kubelet.syncNow("uid-img");
    assert.ok(!(await runtime.list()).some((c) => c.type === "app"));
    await waitUntil(() => api.reasons.get("img")?.includes("ErrImagePull") === true);
    await kubelet.syncNow("uid-img");
    await waitUntil(
      () => api.reasons.get("img")?.includes("ImagePullBackOff") === true,
      2000,
      () => String(api.reasons.get("img")),
    );
    assert.ok(!(await runtime.list()).some((c) => c.type === "app"));
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

async function waitUntil(fn: () => boolean, timeoutMs = 2000, why?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`condition not met in time${why ? `: ${why()}` : ""}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
