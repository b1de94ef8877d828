import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILTIN_RESOURCES } from "../api/resources.js";
import type { Container, Pod, ResourceQuota, Service } from "../api/types/core.js";
import type { PersistentVolumeClaim } from "../api/types/storage.js";
import {
  evaluatorFor,
  evaluatorsForNames,
  objectCountName,
  persistentVolumeClaimEvaluator,
  podEvaluator,
  podResources,
  quotaMatches,
  serviceEvaluator,
  usageOf,
} from "./evaluators.js";
import {
  add,
  equals,
  formatResourceList,
  isZero,
  lessThanOrEqual,
  mask,
  parseResourceList,
  prettyPrint,
  subtract,
} from "./resources.js";

const pod = (name: string, containers: Container[], over: Partial<Pod> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns" },
  spec: { containers },
  ...over,
});

const quota = (
  hard: Record<string, string>,
  spec: Partial<NonNullable<ResourceQuota["spec"]>> = {},
): ResourceQuota => ({
  apiVersion: "v1",
  kind: "ResourceQuota",
  metadata: { name: "q", namespace: "ns" },
  spec: { hard, ...spec },
  status: { hard, used: {} },
});

describe("resource lists", () => {
  test("sums keep the left operand's format and exact values", () => {
    const a = parseResourceList({ cpu: "100m", memory: "128Mi" });
    const b = parseResourceList({ cpu: "0.15", memory: "64Mi", pods: 1 });
    assert.deepEqual(formatResourceList(add(a, b)), { cpu: "250m", memory: "192Mi", pods: "1" });
    assert.deepEqual(formatResourceList(subtract(a, b)), { cpu: "-50m", memory: "64Mi", pods: "-1" });
    assert.ok(isZero(subtract(a, a)));
    assert.ok(equals(a, parseResourceList({ cpu: "0.1", memory: "134217728" })));
  });

  test("lessThanOrEqual reports the exceeded names; mask and prettyPrint as upstream", () => {
    const used = parseResourceList({ pods: "3", "requests.cpu": "1", "limits.memory": "1Gi" });
    const hard = parseResourceList({ pods: "2", "requests.cpu": "2" });
    assert.deepEqual(lessThanOrEqual(used, hard), { ok: false, exceeded: ["pods"] });
    assert.equal(prettyPrint(mask(used, ["requests.cpu", "pods", "nope"])), "pods=3,requests.cpu=1");
  });
});

describe("pod usage", () => {
  test("requests and limits: containers add up, init containers count at their peak, sidecars run alongside", () => {
    const p = pod("p", [
      { name: "a", resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m" } } },
      { name: "b", resources: { requests: { cpu: "300m" } } },
    ]);
    if (p.spec) {
      p.spec.initContainers = [
        { name: "init", resources: { requests: { cpu: "1", memory: "32Mi" } } },
        { name: "sidecar", restartPolicy: "Always", resources: { requests: { cpu: "50m" } } },
      ];
    }
    assert.deepEqual(formatResourceList(podResources(p, "requests")), { cpu: "1", memory: "64Mi" });
    assert.deepEqual(formatResourceList(podEvaluator.usage(p, Date.now())), {
      "count/pods": "1",
      cpu: "1",
      "limits.cpu": "200m",
      memory: "64Mi",
      pods: "1",
      "requests.cpu": "1",
      "requests.memory": "64Mi",
    });
  });

  test("finished pods and pods past their grace period count only as objects", () => {
    const done = pod("d", [{ name: "c", resources: { requests: { cpu: "1" } } }], { status: { phase: "Succeeded" } });
    assert.deepEqual(formatResourceList(podEvaluator.usage(done, Date.now())), { "count/pods": "1" });
    const stuck = pod("s", [{ name: "c" }]);
    stuck.metadata.deletionTimestamp = "2020-01-01T00:00:00Z";
    stuck.metadata.deletionGracePeriodSeconds = 30;
    assert.deepEqual(formatResourceList(podEvaluator.usage(stuck, Date.now())), { "count/pods": "1" });
  });

  test("a quota on cpu or memory makes every container declare it", () => {
    const p = pod("p", [{ name: "a", resources: { requests: { cpu: "1" } } }, { name: "b" }]);
    assert.equal(
      podEvaluator.constraints(["requests.cpu", "limits.memory", "pods"], p),
      "must specify limits.memory for: a,b; requests.cpu for: b",
    );
    assert.equal(podEvaluator.constraints(["pods", "count/pods"], p), undefined);
  });

  test("scopes select pods; scoped quotas never count other kinds", () => {
    const bestEffort = pod("be", [{ name: "c" }]);
    const burstable = pod("b", [{ name: "c", resources: { requests: { cpu: "1" } } }]);
    const q = quota({ pods: "1" }, { scopes: ["BestEffort"] });
    assert.ok(quotaMatches(podEvaluator, q, bestEffort));
    assert.ok(!quotaMatches(podEvaluator, q, burstable));
    const terminating = quota({ pods: "1" }, { scopes: ["Terminating"] });
    assert.ok(!quotaMatches(podEvaluator, terminating, bestEffort));
    const pc = quota(
      { pods: "1" },
      { scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["high"] }] } },
    );
    assert.ok(!quotaMatches(podEvaluator, pc, bestEffort));
    assert.ok(
      quotaMatches(podEvaluator, pc, {
        ...bestEffort,
        spec: { ...bestEffort.spec, containers: [], priorityClassName: "high" },
      }),
    );
    const svc: Service = { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: {} };
    assert.ok(!quotaMatches(serviceEvaluator, quota({ services: "1" }, { scopes: ["BestEffort"] }), svc));
  });
});

describe("other kinds", () => {
  test("services count node ports and load balancers", () => {
    const lb: Service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s" },
      spec: { type: "LoadBalancer", ports: [{ port: 80 }, { port: 443 }] },
    };
    assert.deepEqual(formatResourceList(serviceEvaluator.usage(lb, 0)), {
      "count/services": "1",
      services: "1",
      "services.loadbalancers": "1",
      "services.nodeports": "2",
    });
  });

  test("object counts: count/<resource>[.<group>], the legacy names, events never", () => {
    assert.equal(objectCountName({ group: "apps", resource: "deployments" }), "count/deployments.apps");
    const cm = evaluatorFor({ group: "", resource: "configmaps" });
    assert.deepEqual(cm?.matchingResources(["configmaps", "count/configmaps", "pods"]), [
      "configmaps",
      "count/configmaps",
    ]);
    assert.equal(evaluatorFor({ group: "", resource: "events" }), undefined);
    const names = ["pods", "count/deployments.apps", "services"];
    assert.deepEqual(
      evaluatorsForNames(names, BUILTIN_RESOURCES).map((e) => e.groupResource.resource),
      ["pods", "services", "deployments"],
    );
  });

  test("claims count once and by their requested storage, also per storage class, rounded up to bytes", () => {
    const e = evaluatorFor({ group: "", resource: "persistentvolumeclaims" });
    assert.equal(e, persistentVolumeClaimEvaluator);
    assert.ok(e.handles("UPDATE", ""), "a resize is charged");
    assert.deepEqual(
      e.matchingResources([
        "persistentvolumeclaims",
        "count/persistentvolumeclaims",
        "requests.storage",
        "gold.storageclass.storage.k8s.io/requests.storage",
        "gold.storageclass.storage.k8s.io/persistentvolumeclaims",
        "requests.cpu",
      ]),
      [
        "persistentvolumeclaims",
        "count/persistentvolumeclaims",
        "requests.storage",
        "gold.storageclass.storage.k8s.io/requests.storage",
        "gold.storageclass.storage.k8s.io/persistentvolumeclaims",
      ],
    );
    const claim = (cls: string | undefined, storage: string): PersistentVolumeClaim => ({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "c", namespace: "ns" },
      spec: { ...(cls !== undefined ? { storageClassName: cls } : {}), resources: { requests: { storage } } },
    });
    assert.deepEqual(formatResourceList(e.usage(claim("gold", "1Gi"), 0)), {
      "count/persistentvolumeclaims": "1",
      "gold.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
      "gold.storageclass.storage.k8s.io/requests.storage": "1Gi",
      persistentvolumeclaims: "1",
      "requests.storage": "1Gi",
    });
    assert.deepEqual(formatResourceList(e.usage(claim(undefined, "1500m"), 0)), {
      "count/persistentvolumeclaims": "1",
      persistentvolumeclaims: "1",
      "requests.storage": "2",
    });
  });

  test("usageOf: a namespace's usage, zero for what nothing uses", () => {
    const q = quota({ pods: "5", "requests.cpu": "2", "requests.memory": "1Gi" });
    const pods = [
      pod("a", [{ name: "c", resources: { requests: { cpu: "500m" } } }]),
      pod("b", [{ name: "c", resources: { requests: { cpu: "250m" } } }], { status: { phase: "Failed" } }),
    ];
    assert.deepEqual(
      formatResourceList(usageOf(podEvaluator, q, ["pods", "requests.cpu", "requests.memory"], pods, 0)),
      {
        pods: "1",
        "requests.cpu": "500m",
        "requests.memory": "0",
      },
    );
  });
});
