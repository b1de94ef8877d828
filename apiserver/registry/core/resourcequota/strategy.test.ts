import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LIMITRANGES, RESOURCEQUOTAS } from "#pkg/api/resources.js";
import type { LimitRange, ResourceQuota } from "#pkg/api/types/core.js";
import { strategyFor } from "../../strategies.js";

const messages = (errs: Array<{ field: string; message: string }>) => errs.map((e) => `${e.field}: ${e.message}`);

describe("ResourceQuota strategy", () => {
  const s = strategyFor(RESOURCEQUOTAS);
  const q = (hard: Record<string, string>, over: Partial<ResourceQuota> = {}): ResourceQuota => ({
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "q", namespace: "ns" },
    spec: { hard },
    ...over,
  });

  test("create clears status; quantities are stored canonical", () => {
    const obj = q(
      { "requests.cpu": "0.5", memory: "1024Mi", "count/deployments.apps": "2" },
      { status: { used: { pods: "9" } } },
    );
    s.applyDefaults(obj);
    s.prepareForCreate(obj);
    assert.deepEqual(obj.spec?.hard, { "requests.cpu": "500m", memory: "1Gi", "count/deployments.apps": "2" });
    assert.deepEqual(obj.status, {});
    assert.deepEqual(s.validate(obj), []);
  });

  test("validation in upstream's words", () => {
    assert.deepEqual(messages(s.validate(q({ pods: "-1", services: "1.5", bogus: "1", "example.com/gpu": "1" }))), [
      'spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
      'spec.hard[services]: Invalid value: "1.5": must be an integer',
      'spec.hard[bogus]: Invalid value: "bogus": must be a standard resource for quota',
    ]);
    assert.deepEqual(messages(s.validate(q({ pods: "1" }, { spec: { hard: { pods: "1" }, scopes: ["Nope"] } }))), [
      'spec.scopes[0]: Invalid value: "Nope": unsupported scope',
    ]);
  });

  test("columns: REQUEST and LIMIT from status, used/hard", () => {
    const obj = q(
      {},
      {
        status: {
          hard: { pods: "2", "requests.cpu": "1", "limits.memory": "1Gi", "count/deployments.apps": "3" },
          used: { pods: "1", "requests.cpu": "250m" },
        },
      },
    );
    assert.deepEqual(
      s.columns.map((c) => c.name),
      ["Name", "Age", "Request", "Limit"],
    );
    const row = s.row(obj, new Date());
    assert.equal(row[2], "count/deployments.apps: 0/3, pods: 1/2, requests.cpu: 250m/1");
    assert.equal(row[3], "limits.memory: 0/1Gi");
  });

  test("main-endpoint updates keep the status; status updates keep the spec", () => {
    const old = q({ pods: "2" }, { status: { hard: { pods: "2" }, used: { pods: "1" } } });
    const next = q({ pods: "3" }, { status: { hard: { pods: "9" }, used: { pods: "9" } } });
    s.prepareForUpdate(next, old);
    assert.deepEqual(next.spec?.hard, { pods: "3" });
    assert.deepEqual(next.status, old.status);
    const st = q({ pods: "5" }, { status: { hard: { pods: "2" }, used: { pods: "2" } } });
    s.prepareForStatusUpdate(st, old);
    assert.deepEqual(st.spec?.hard, { pods: "2" });
    assert.deepEqual(st.status?.used, { pods: "2" });
  });
});

describe("LimitRange strategy", () => {
  const s = strategyFor(LIMITRANGES);
  const lr = (limits: NonNullable<LimitRange["spec"]>["limits"]): LimitRange => ({
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "lr", namespace: "ns", creationTimestamp: "2024-05-01T12:00:00Z" },
    spec: { limits },
  });

  test("container defaults: default limit from max, default request from default, else min", () => {
    const obj = lr([{ type: "Container", max: { cpu: "2" }, min: { memory: "64Mi" }, default: { memory: "0.5Gi" } }]);
    s.applyDefaults(obj);
    assert.deepEqual(obj.spec?.limits[0], {
      type: "Container",
      max: { cpu: "2" },
      min: { memory: "64Mi" },
      default: { memory: "512Mi", cpu: "2" },
      defaultRequest: { memory: "512Mi", cpu: "2" },
    });
    assert.deepEqual(s.validate(obj), []);
  });

  test("validation in upstream's words", () => {
    const bad = lr([
      { type: "Container", min: { cpu: "2" }, max: { cpu: "1" } },
      { type: "Pod", default: { cpu: "1" } },
      { type: "Sandwich" },
    ]);
    assert.deepEqual(messages(s.validate(bad)), [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
      'spec.limits[2].type: Unsupported value: "Sandwich": supported values: "Pod", "Container", "PersistentVolumeClaim"',
    ]);
  });

  test("columns: NAME and CREATED AT", () => {
    assert.deepEqual(
      s.columns.map((c) => c.name),
      ["Name", "Created At"],
    );
    assert.deepEqual(s.row(lr([]), new Date()), ["lr", "2024-05-01T12:00:00Z"]);
  });
});
