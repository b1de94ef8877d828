import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { DEPLOYMENTS, PODS } from "#pkg/api/resources.js";
import type { Pod, ResourceQuota } from "#pkg/api/types/core.js";
import { evaluatorFor, podEvaluator } from "#pkg/quota/evaluators.js";
import { formatResourceList } from "#pkg/quota/resources.js";
import { attrs } from "../testing.js";
import { checkRequest } from "./admission.js";

const quota = (
  name: string,
  hard: Record<string, string>,
  used: Record<string, string> | undefined,
): ResourceQuota => ({
  apiVersion: "v1",
  kind: "ResourceQuota",
  metadata: { name, namespace: "ns", resourceVersion: "5" },
  spec: { hard },
  status: used ? { hard, used } : {},
});

const pod = (name: string, cpu?: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns" },
  spec: { containers: [{ name: "c", ...(cpu ? { resources: { requests: { cpu }, limits: { cpu } } } : {}) }] },
});

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isStatusError(err));
    assert.equal(err.code, 403);
    return err.message;
  }
  assert.fail("expected a refusal");
}

describe("ResourceQuota admission: checkRequest", () => {
  test("charges a create to every matching quota", () => {
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod("p", "500m") });
    const changed = checkRequest(
      a,
      podEvaluator,
      [
        quota("count", { pods: "2" }, { pods: "1" }),
        quota("cpu", { "requests.cpu": "1", "limits.cpu": "2" }, { "requests.cpu": "250m", "limits.cpu": "250m" }),
        quota("other", { "count/deployments.apps": "1" }, { "count/deployments.apps": "0" }),
      ],
      0,
    );
    assert.deepEqual(Object.fromEntries([...changed].map(([k, v]) => [k, formatResourceList(v)])), {
      count: { pods: "2" },
      cpu: { "limits.cpu": "750m", "requests.cpu": "750m" },
    });
  });

  test("over quota: upstream's message with the exceeded resources only", () => {
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod("p3", "1") });
    assert.equal(
      refusal(() =>
        checkRequest(
          a,
          podEvaluator,
          [quota("q", { pods: "2", "requests.cpu": "4" }, { pods: "2", "requests.cpu": "1" })],
          0,
        ),
      ),
      'pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2',
    );
  });

  test("a generated name is named as generated", () => {
    const p = pod("web-abcde");
    p.metadata.generateName = "web-";
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: p, name: "" });
    assert.match(
      refusal(() => checkRequest(a, podEvaluator, [quota("q", { pods: "1" }, { pods: "1" })], 0)),
      /^pods "web-abcde" is forbidden: exceeded quota: q/,
    );
  });

  test("unknown usage and missing requests are refused", () => {
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod("p") });
    assert.equal(
      refusal(() => checkRequest(a, podEvaluator, [quota("q", { pods: "2", "count/pods": "2" }, { pods: "0" })], 0)),
      'pods "p" is forbidden: status unknown for quota: q, resources: count/pods,pods',
    );
    assert.equal(
      refusal(() => checkRequest(a, podEvaluator, [quota("q", { "requests.cpu": "2" }, { "requests.cpu": "0" })], 0)),
      'pods "p" is forbidden: failed quota: q: must specify requests.cpu for: c',
    );
  });

  test("a quota without status.hard is not in force yet", () => {
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod("p") });
    assert.equal(checkRequest(a, podEvaluator, [quota("q", { pods: "0" }, undefined)], 0).size, 0);
  });

  test("object counts of other kinds", () => {
    const d: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "ns" },
      spec: {},
    };
    const e = evaluatorFor(DEPLOYMENTS);
    assert.ok(e);
    const { a } = attrs(DEPLOYMENTS, "CREATE", { namespace: "ns", object: d });
    assert.equal(
      refusal(() =>
        checkRequest(a, e, [quota("q", { "count/deployments.apps": "1" }, { "count/deployments.apps": "1" })], 0),
      ),
      'deployments.apps "d" is forbidden: exceeded quota: q, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
    );
  });
});
