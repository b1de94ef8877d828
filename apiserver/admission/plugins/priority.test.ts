import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import { PODS, PRIORITYCLASSES } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PriorityClass } from "#pkg/api/types/scheduling.js";
import { attrs, fakeContext } from "../testing.js";
import { defaultPriorityClass, newPriorityAdmission } from "./priority.js";

const pc = (name: string, value: number, o: Partial<PriorityClass> = {}): PriorityClass => ({
  apiVersion: "scheduling.k8s.io/v1",
  kind: "PriorityClass",
  metadata: { name },
  value,
  preemptionPolicy: "PreemptLowerPriority",
  ...o,
});
const pod = (spec: Partial<NonNullable<Pod["spec"]>> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "ns" },
  spec: { containers: [{ name: "c", image: "busybox" }], ...spec },
});
const plugin = (classes: PriorityClass[]) =>
  newPriorityAdmission(fakeContext({ objects: { "scheduling.k8s.io/priorityclasses": classes as KubeObject[] } }));

async function admitPod(classes: PriorityClass[], p: Pod): Promise<Pod> {
  await plugin(classes).admit?.(attrs(PODS, "CREATE", { namespace: "ns", object: p }).a);
  return p;
}

describe("Priority admission: pods", () => {
  test("no class and no default: priority 0, PreemptLowerPriority, no class name", async () => {
    const p = await admitPod([pc("high", 1000)], pod());
    assert.equal(p.spec?.priority, 0);
    assert.equal(p.spec?.preemptionPolicy, "PreemptLowerPriority");
    assert.equal(p.spec?.priorityClassName, undefined);
  });

  test("the named class gives its value and preemption policy", async () => {
    const p = await admitPod(
      [pc("high", 1000, { preemptionPolicy: "Never" }), pc("system-node-critical", 2000001000)],
      pod({ priorityClassName: "high" }),
    );
    assert.equal(p.spec?.priority, 1000);
    assert.equal(p.spec?.preemptionPolicy, "Never");
    const sys = await admitPod(
      [pc("system-node-critical", 2000001000)],
      pod({ priorityClassName: "system-node-critical" }),
    );
    assert.equal(sys.spec?.priority, 2000001000);
  });

  test("the globalDefault class (the lowest of several) names itself on a pod without one", async () => {
    const classes = [pc("a", 50, { globalDefault: true }), pc("b", 10, { globalDefault: true }), pc("c", 1)];
    assert.equal(defaultPriorityClass(classes)?.metadata.name, "b");
    const p = await admitPod(classes, pod());
    assert.equal(p.spec?.priorityClassName, "b");
    assert.equal(p.spec?.priority, 10);
  });

  test("an unknown class, or a priority / preemption policy other than the class's, is refused", async () => {
    await assert.rejects(admitPod([], pod({ priorityClassName: "nope" })), {
      message: 'pods "p" is forbidden: no PriorityClass with name nope was found',
    });
    await assert.rejects(admitPod([pc("high", 1000)], pod({ priorityClassName: "high", priority: 5 })), {
      message:
        'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
    });
    await assert.rejects(admitPod([], pod({ priority: 7 })), {
      message:
        'pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name',
    });
    await assert.rejects(admitPod([pc("high", 1000)], pod({ priorityClassName: "high", preemptionPolicy: "Never" })), {
      message:
        'pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name',
    });
    // The same values as the class's pass.
    const same = await admitPod([pc("high", 1000)], pod({ priorityClassName: "high", priority: 1000 }));
    assert.equal(same.spec?.priority, 1000);
  });

  test("an update that leaves priority out keeps the stored one; subresources are not looked at", async () => {
    const old = pod({ priority: 1000, preemptionPolicy: "Never", priorityClassName: "high" });
    const p = pod({ priorityClassName: "high" });
    await plugin([]).admit?.(attrs(PODS, "UPDATE", { namespace: "ns", object: p, oldObject: old }).a);
    assert.equal(p.spec?.priority, 1000);
    assert.equal(p.spec?.preemptionPolicy, "Never");
    const binding = pod({ priorityClassName: "nope" });
    await plugin([]).admit?.(attrs(PODS, "CREATE", { namespace: "ns", object: binding, subresource: "binding" }).a);
    assert.equal(binding.spec?.priority, undefined);
  });
});

describe("Priority admission: PriorityClasses", () => {
  const existing = [pc("default", 5, { globalDefault: true }), pc("other", 1)];
  const check = async (op: "CREATE" | "UPDATE", obj: PriorityClass) =>
    plugin(existing).validate?.(attrs(PRIORITYCLASSES, op, { object: obj }).a);

  test("only one globalDefault", async () => {
    await assert.rejects(check("CREATE", pc("second", 7, { globalDefault: true })), {
      message:
        'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass default is already marked as default. Only one default can exist',
    });
    await assert.rejects(check("UPDATE", pc("other", 1, { globalDefault: true })), {
      message:
        'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass default is already marked as default. Only one default can exist',
    });
    await check("UPDATE", pc("default", 5, { globalDefault: true, description: "still the default" }));
    await check("CREATE", pc("plain", 3));
    await plugin([]).validate?.(
      attrs(PRIORITYCLASSES, "CREATE", { object: pc("first", 3, { globalDefault: true }) }).a,
    );
  });
});
