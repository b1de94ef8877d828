import assert from "node:assert/strict";
import { test } from "node:test";
import { PRIORITYCLASSES } from "#pkg/api/resources.js";
import type { PriorityClass } from "#pkg/api/types/scheduling.js";
import { systemPriorityClasses } from "#pkg/api/types/scheduling.js";
import {
  applyPriorityClassDefaults,
  priorityClassRow,
  priorityClassStrategy,
  validatePriorityClass,
  validatePriorityClassUpdate,
} from "./strategy.js";

const pc = (name: string, value: number, o: Partial<PriorityClass> = {}): PriorityClass => ({
  apiVersion: "scheduling.k8s.io/v1",
  kind: "PriorityClass",
  metadata: { name },
  value,
  ...o,
});
const messages = (errs: ReturnType<typeof validatePriorityClass>) => errs.map((e) => `${e.field}: ${e.message}`);

test("defaults: PreemptLowerPriority, value 0 written", () => {
  const o = { ...pc("x", 0), value: undefined } as unknown as PriorityClass;
  applyPriorityClassDefaults(o);
  assert.equal(o.value, 0);
  assert.equal(o.preemptionPolicy, "PreemptLowerPriority");
});

test("user classes stop at 1e9; system- names are the system classes' only", () => {
  assert.deepEqual(messages(validatePriorityClass(pc("high", 1_000_000_000))), []);
  assert.deepEqual(messages(validatePriorityClass(pc("high", 1_000_000_001))), [
    "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
  ]);
  for (const s of systemPriorityClasses()) assert.deepEqual(messages(validatePriorityClass(s)), []);
  assert.deepEqual(messages(validatePriorityClass(pc("system-mine", 5))), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
  ]);
  assert.deepEqual(messages(validatePriorityClass(pc("system-node-critical", 5))), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
  ]);
  assert.deepEqual(
    messages(validatePriorityClass(pc("system-cluster-critical", 2000000000, { globalDefault: true }))),
    [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: globalDefault of system-cluster-critical PriorityClass must be false",
    ],
  );
  assert.deepEqual(messages(validatePriorityClass(pc("x", 1, { preemptionPolicy: "Sometimes" }))), [
    'preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"',
  ]);
});

test("value and preemptionPolicy are immutable; description and globalDefault are not", () => {
  const old = pc("x", 10, { preemptionPolicy: "PreemptLowerPriority" });
  assert.deepEqual(messages(validatePriorityClassUpdate(pc("x", 11, { preemptionPolicy: "Never" }), old)), [
    "value: Forbidden: may not be changed in an update.",
    'preemptionPolicy: Invalid value: "Never": field is immutable',
  ]);
  const ok = pc("x", 10, { preemptionPolicy: "PreemptLowerPriority", description: "d", globalDefault: true });
  assert.deepEqual(validatePriorityClassUpdate(ok, old), []);
});

test("columns and row as upstream's printer; system classes cannot be deleted", () => {
  const s = priorityClassStrategy(PRIORITYCLASSES);
  assert.deepEqual(
    s.columns.map((c) => `${c.name}:${c.type}`),
    ["Name:string", "Value:integer", "Global-Default:boolean", "Age:string", "PreemptionPolicy:string"],
  );
  const now = new Date("2026-01-01T00:10:00Z");
  const row = priorityClassRow(
    pc("high", 1000, { metadata: { name: "high", creationTimestamp: "2026-01-01T00:00:00Z" } }),
    now,
  );
  assert.deepEqual(row, ["high", 1000, false, "10m", "PreemptLowerPriority"]);
  assert.throws(() => s.beforeDelete?.("system-node-critical"), {
    message:
      'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted',
  });
  s.beforeDelete?.("high");
});
