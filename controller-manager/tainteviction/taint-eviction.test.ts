import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { NODES, PODS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Node, Pod, Taint, Toleration } from "#pkg/api/types/core.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/index.js";
import { evictionTime, TaintEvictionController } from "./taint-eviction.js";
import { TimedWorkerQueue } from "./timed-workers.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const UNREACHABLE: Taint = { key: "node.kubernetes.io/unreachable", effect: "NoExecute" };
const NOT_READY: Taint = { key: "node.kubernetes.io/not-ready", effect: "NoExecute" };
const tolerate = (key: string, seconds?: number): Toleration => ({
  key,
  operator: "Exists",
  effect: "NoExecute",
  ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}),
});

describe("evictionTime: toleration → eviction time", () => {
  const at = (ms: number) => ({ evict: "at", at: ms });
  test("untolerated: now; tolerated for ever: never; no taints: never", () => {
    assert.deepEqual(evictionTime([UNREACHABLE], [], 0, T0), { evict: "now" });
    assert.deepEqual(evictionTime([UNREACHABLE, NOT_READY], [tolerate(UNREACHABLE.key, 60)], 0, T0), { evict: "now" });
    assert.deepEqual(evictionTime([UNREACHABLE], [{ operator: "Exists" }], 0, T0), { evict: "never" });
    assert.deepEqual(evictionTime([], [], 0, T0), { evict: "never" });
  });

  test("tolerationSeconds counts from the taint's timeAdded, or from the binding if later", () => {
    const taint = { ...UNREACHABLE, timeAdded: metaTime(T0 - 100_000) };
    assert.deepEqual(evictionTime([taint], [tolerate(taint.key, 300)], T0 - 500_000, T0), at(T0 + 200_000));
    assert.deepEqual(evictionTime([taint], [tolerate(taint.key, 300)], T0 - 10_000, T0), at(T0 + 290_000));
    assert.deepEqual(evictionTime([taint], [tolerate(taint.key, 60)], 0, T0), { evict: "now" }, "ran out already");
    // Without timeAdded, from now.
    assert.deepEqual(evictionTime([UNREACHABLE], [tolerate(UNREACHABLE.key, 2)], 0, T0), at(T0 + 2_000));
  });

  test("the shortest of the tolerations in use wins; <= 0 means now", () => {
    const a = { ...UNREACHABLE, timeAdded: metaTime(T0) };
    const b = { ...NOT_READY, timeAdded: metaTime(T0 - 50_000) };
    assert.deepEqual(evictionTime([a, b], [tolerate(a.key, 100), tolerate(b.key, 120)], 0, T0), at(T0 + 70_000));
    assert.deepEqual(evictionTime([a, b], [tolerate(a.key), tolerate(b.key, 120)], 0, T0), at(T0 + 70_000));
    assert.deepEqual(evictionTime([a], [tolerate(a.key, 0)], 0, T0), { evict: "now" });
  });
});

test("TimedWorkerQueue: work runs at its time; done keys are not re-added until cancelled", async () => {
  const clock = new FakeClock(T0);
  const ran: string[] = [];
  const q = new TimedWorkerQueue(
    async (k) => void ran.push(k),
    clock,
    () => {},
  );
  q.addWork("a", T0 + 1_000);
  q.addWork("now", T0);
  await q.idle();
  assert.deepEqual(ran, ["now"]);
  clock.step(999);
  await q.idle();
  assert.deepEqual(ran, ["now"]);
  clock.step(1);
  await q.idle();
  assert.deepEqual(ran, ["now", "a"]);
  q.addWork("a", T0);
  await q.idle();
  assert.deepEqual(ran, ["now", "a"], "done: not again");
  assert.equal(q.cancelWork("a"), false, "nothing pending to cancel");
  q.addWork("b", T0 + 5_000);
  assert.equal(q.cancelWork("b"), true);
  clock.step(10_000);
  await q.idle();
  assert.deepEqual(ran, ["now", "a"]);
});

afterEach(abortFakeContexts);

function pod(name: string, node: string, tolerations: Toleration[] = []): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, creationTimestamp: metaTime(T0 - 3_600_000) },
    spec: { nodeName: node, tolerations, containers: [{ name: "c", image: "busybox" }] },
    status: { phase: "Running" },
  };
}

function node(name: string, taints: Taint[] = []): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, uid: `uid-${name}` }, spec: { taints } };
}

async function eventually(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("taint eviction controller", () => {
  test("evicts untolerating pods at once, tolerating ones after tolerationSeconds, cancels when the taint goes", async () => {
    const clock = new FakeClock(T0);
    const ctx = fakeControllerContext({ clock });
    const { client, informers, events: recorder } = ctx;
    client.seed(NODES, node("n1"), node("n2"));
    client.seed(
      PODS,
      pod("plain", "n1"),
      pod("two", "n1", [tolerate(UNREACHABLE.key, 2)]),
      pod("five", "n1", [tolerate(UNREACHABLE.key, 5)]),
      pod("forever", "n1", [tolerate(UNREACHABLE.key)]),
      pod("elsewhere", "n2"),
    );
    const c = new TaintEvictionController(ctx);
    const signal = ctx.startInformers();
    const running = c.run(signal, 2);
    await informers.waitForSync(signal);
    const exists = (name: string) => client.object<Pod>(PODS, "default", name) !== undefined;

    // The node goes unreachable (timeAdded now).
    const n1 = client.object<Node>(NODES, undefined, "n1") as Node;
    await client.update(NODES, undefined, { ...n1, spec: { taints: [{ ...UNREACHABLE, timeAdded: metaTime(T0) }] } });
    await eventually(() => !exists("plain"), "the untolerating pod to be deleted");
    const statusWrite = client.actionsOf("update", PODS).find((a) => a.name === "plain" && a.subresource === "status");
    const cond = (statusWrite?.object as Pod | undefined)?.status?.conditions?.find(
      (x) => x.type === "DisruptionTarget",
    );
    assert.deepEqual(
      { status: cond?.status, reason: cond?.reason, message: cond?.message },
      { status: "True", reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint" },
    );
    assert.ok(
      recorder.events.some(
        (e) =>
          e.object === "default/plain" &&
          e.reason === "TaintManagerEviction" &&
          e.message === "Marking for deletion Pod default/plain",
      ),
    );
    await eventually(() => c.evictions.pending().length === 2, "two evictions scheduled");
    assert.deepEqual(c.evictions.pending().sort(), ["default/five", "default/two"]);

    clock.step(1_999);
    await c.evictions.idle();
    assert.ok(exists("two"));
    clock.step(1);
    await eventually(() => !exists("two"), "the 2 s pod to be deleted");

    // The taint goes before the 5 s run out: the eviction is cancelled.
    const tainted = client.object<Node>(NODES, undefined, "n1") as Node;
    await client.update(NODES, undefined, { ...tainted, spec: { taints: [] } });
    await eventually(() => c.evictions.pending().length === 0, "the eviction to be cancelled");
    assert.ok(
      recorder.events.some(
        (e) => e.object === "default/five" && e.message === "Cancelling deletion of Pod default/five",
      ),
    );
    clock.step(10_000);
    await c.evictions.idle();
    assert.ok(exists("five"));
    assert.ok(exists("forever"));
    assert.ok(exists("elsewhere"));
    abortFakeContexts();
    await running;
  });
});
