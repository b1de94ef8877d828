import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type {
  Deployment,
  Event,
  Node,
  PersistentVolumeClaim,
  Pod,
  ReplicaSet,
  ReplicationController,
  StorageClass,
} from "#pkg/api/types/index.js";
import { describeEvents } from "./events.js";
import { describeService, formatEndpointSlices } from "./misc.js";
import { describeNode } from "./node.js";
import { describePod } from "./pod.js";
import { describePodDisruptionBudget } from "./policy.js";
import { describePersistentVolumeClaim, describeStorageClass } from "./storage.js";
import { describeDeployment, describeReplicaSet, describeReplicationController } from "./workloads.js";
import { PrefixWriter } from "./writer.js";

const pod = {
  metadata: {
    name: "web-1",
    namespace: "default",
    labels: { app: "web", "pod-template-hash": "abc" },
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-abc", uid: "u", controller: true }],
  },
  spec: {
    nodeName: "n1",
    containers: [{ name: "web", image: "busybox", resources: { requests: { cpu: "500m", memory: "1Gi" } } }],
  },
  status: {
    phase: "Running",
    hostIP: "10.0.0.1",
    podIP: "10.244.0.5",
    containerStatuses: [
      {
        name: "web",
        ready: true,
        restartCount: 2,
        image: "busybox",
        imageID: "",
        state: { waiting: { reason: "CrashLoopBackOff" } },
        lastState: { terminated: { exitCode: 3, reason: "Error" } },
      },
    ],
    conditions: [{ type: "Ready", status: "False" }],
  },
} as unknown as Pod;

describe("describe", () => {
  test("pod: header fields, container state and last state, conditions", () => {
    const w = new PrefixWriter();
    describePod(w, pod);
    const out = w.toString();
    assert.match(out, /^Name:\s+web-1\nNamespace:\s+default\n/);
    assert.match(out, /\nNode:\s+n1\/10\.0\.0\.1\n/);
    assert.match(out, /\nLabels:\s+app=web\n\s+pod-template-hash=abc\n/);
    assert.match(out, /\nControlled By:\s+ReplicaSet\/web-abc\n/);
    assert.match(out, /\n {4}State:\s+Waiting\n {6}Reason:\s+CrashLoopBackOff\n/);
    assert.match(out, /\n {4}Last State:\s+Terminated\n {6}Reason:\s+Error\n {6}Exit Code:\s+3\n/);
    assert.match(out, /\n {4}Ready:\s+True\n {4}Restart Count:\s+2\n/);
    assert.match(out, /\nConditions:\n {2}Type\s+Status\n {2}Ready\s+False \n/);
  });

  test("events: kubectl's columns, repeats folded as (xN over T)", () => {
    const now = Date.parse("2026-11-22T01:00:00Z");
    const w = new PrefixWriter();
    describeEvents(
      w,
      [
        {
          metadata: {},
          involvedObject: {},
          type: "Warning",
          reason: "BackOff",
          message: "Back-off restarting failed container\n",
          source: { component: "kubelet" },
          firstTimestamp: "2026-11-22T00:55:00Z",
          lastTimestamp: "2026-11-22T00:59:50Z",
          count: 4,
        },
      ] as unknown as Event[],
      now,
    );
    assert.equal(
      w.toString(),
      "Events:\n  Type     Reason   Age               From     Message\n  ----     ------   ----              ----     -------\n  Warning  BackOff  10s (x4 over 5m)  kubelet  Back-off restarting failed container\n",
    );
    const empty = new PrefixWriter();
    describeEvents(empty, []);
    assert.equal(empty.toString(), "Events:\t<none>\n".replace("\t", "  "));
  });

  test("replicationcontroller and replicaset: selector, replicas, pods status, template, conditions", () => {
    const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } };
    const rc = {
      metadata: {
        name: "web",
        namespace: "default",
        labels: { app: "web" },
        ownerReferences: [{ apiVersion: "v1", kind: "Thing", name: "t", uid: "x", controller: true }],
      },
      spec: { replicas: 3, selector: { tier: "f", app: "web" }, template },
      status: {
        replicas: 2,
        conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate" }],
      },
    } as unknown as ReplicationController;
    const pending = { ...pod, status: { phase: "Pending" } } as Pod;
    let w = new PrefixWriter();
    describeReplicationController(w, rc, [pod, pending]);
    let out = w.toString();
    assert.match(
      out,
      /^Name:\s+web\nNamespace:\s+default\nSelector:\s+app=web,tier=f\nLabels:\s+app=web\nAnnotations:\s+<none>\nReplicas:\s+2 current \/ 3 desired\nPods Status:\s+1 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed\nPod Template:\n/,
    );
    assert.doesNotMatch(out, /Controlled By/, "kubectl's RC describer has no Controlled By");
    assert.match(
      out,
      /\nConditions:\n {2}Type\s+Status\s+Reason\n {2}----\s+------\s+------\n {2}ReplicaFailure\s+True\s+FailedCreate\n$/,
    );
    const rs = {
      metadata: {
        name: "web-abc",
        namespace: "default",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d", controller: true }],
      },
      spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template },
      status: { replicas: 1 },
    } as unknown as ReplicaSet;
    w = new PrefixWriter();
    describeReplicaSet(w, rs, [pod]);
    out = w.toString();
    assert.match(out, /^Name:\s+web-abc\nNamespace:\s+default\nSelector:\s+app=web\nLabels:\s+<none>\n/);
    assert.match(out, /\nControlled By:\s+Deployment\/web\nReplicas:\s+1 current \/ 1 desired\n/);
    assert.doesNotMatch(out, /Conditions:/);
  });

  test("deployment: OldReplicaSets are the other owned ones still asked for pods, NewReplicaSet the one of its template", () => {
    const template = (image: string, hash?: string) => ({
      metadata: { labels: { app: "web", ...(hash ? { "pod-template-hash": hash } : {}) } },
      spec: { containers: [{ name: "c", image }] },
    });
    const d = {
      metadata: { name: "web", namespace: "default", uid: "d" },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: template("b") },
      status: { replicas: 4, updatedReplicas: 2, availableReplicas: 3, unavailableReplicas: 1 },
    } as unknown as Deployment;
    const owner = [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d", controller: true }];
    const rs = (name: string, image: string, replicas: number, current: number, created: string) =>
      ({
        metadata: { name, ownerReferences: owner, creationTimestamp: created },
        spec: { replicas, template: template(image, name) },
        status: { replicas: current },
      }) as unknown as ReplicaSet;
    const w = new PrefixWriter();
    describeDeployment(w, d, [
      rs("web-a", "a", 2, 2, "2026-01-01T00:00:00Z"),
      rs("web-old", "z", 0, 0, "2025-01-01T00:00:00Z"),
      rs("web-b", "b", 2, 2, "2026-01-02T00:00:00Z"),
      { ...rs("stranger", "b", 1, 1, "2026-01-01T00:00:00Z"), metadata: { name: "stranger" } } as ReplicaSet,
    ]);
    const out = w.toString();
    assert.match(out, /\nReplicas:\s+3 desired \| 2 updated \| 4 total \| 3 available \| 1 unavailable\n/);
    assert.match(
      out,
      /\nOldReplicaSets:\s+web-a \(2\/2 replicas created\)\nNewReplicaSet:\s+web-b \(2\/2 replicas created\)\n$/,
    );
  });

  test("node: pods and allocated resources as percentages of allocatable", () => {
    const node = {
      metadata: { name: "n1" },
      status: { allocatable: { cpu: "2", memory: "4Gi" }, addresses: [{ type: "InternalIP", address: "10.0.0.1" }] },
    } as unknown as Node;
    const w = new PrefixWriter();
    describeNode(w, node, [pod], undefined);
    const out = w.toString();
    assert.match(out, /Non-terminated Pods:\s+\(1 in total\)/);
    assert.match(out, /\n {2}default\s+web-1\s+500m \(25%\)\s+0 \(0%\)\s+1Gi \(25%\)\s+0 \(0%\)\s+/);
    assert.match(out, /\n {2}cpu\s+500m \(25%\)\s+0 \(0%\)\n {2}memory\s+1Gi \(25%\)\s+0 \(0%\)\n/);
  });
});

describe("describe poddisruptionbudget", () => {
  test("as kubectl: budget, selector, then the controller's counts", () => {
    const w = new PrefixWriter();
    describePodDisruptionBudget(w, {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web", namespace: "default" },
      spec: { minAvailable: "50%", selector: { matchLabels: { app: "web" } } },
      status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 },
    });
    assert.equal(
      w.toString(),
      [
        "Name:           web",
        "Namespace:      default",
        "Min available:  50%",
        "Selector:       app=web",
        "Status:",
        "    Allowed disruptions:  1",
        "    Current:              3",
        "    Desired:              2",
        "    Total:                3",
        "",
      ].join("\n"),
    );
  });
});

describe("describeService", () => {
  const svc = {
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      selector: { app: "web" },
      type: "NodePort",
      ipFamilyPolicy: "SingleStack",
      ipFamilies: ["IPv4"],
      clusterIP: "10.96.0.20",
      clusterIPs: ["10.96.0.20"],
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP", nodePort: 30080 }],
      sessionAffinity: "None",
      externalTrafficPolicy: "Cluster",
      internalTrafficPolicy: "Cluster",
    },
  } as unknown as import("#pkg/api/types/index.js").Service;
  const slice = (ips: Array<[string, boolean]>) =>
    ({
      addressType: "IPv4",
      endpoints: ips.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    }) as unknown as import("#pkg/api/types/index.js").EndpointSlice;

  test("kubectl's fields; the ready endpoints of the port's slices, three then '+ N more...'", () => {
    const w = new PrefixWriter();
    describeService(w, svc, {
      slices: [
        slice([
          ["10.244.0.1", true],
          ["10.244.0.2", false],
          ["10.244.0.3", true],
        ]),
        slice([
          ["10.244.0.4", true],
          ["10.244.0.5", true],
        ]),
      ],
    });
    const lines = w.toString().split("\n");
    assert.ok(lines.includes("Selector:                 app=web"), w.toString());
    assert.ok(lines.includes("Port:                     http  80/TCP"));
    assert.ok(lines.includes("TargetPort:               http/TCP"));
    assert.ok(lines.includes("NodePort:                 http  30080/TCP"));
    // kubectl 1.33 leaves the not-ready 10.244.0.2 out.
    assert.ok(lines.includes("Endpoints:                10.244.0.1:8080,10.244.0.3:8080,10.244.0.4:8080 + 1 more..."));
    assert.ok(lines.includes("External Traffic Policy:  Cluster"));
    assert.ok(lines.includes("Internal Traffic Policy:  Cluster"));
  });

  test("no slices: <none>; from Endpoints where slices are not served", () => {
    assert.equal(formatEndpointSlices([], "http"), "<none>");
    // As kubectl's loop: a fourth endpoint marks "more" before its readiness is looked at.
    const fourth = slice([
      ["10.244.0.1", true],
      ["10.244.0.2", true],
      ["10.244.0.3", true],
      ["10.244.0.4", false],
    ]);
    assert.equal(formatEndpointSlices([fourth], "http"), "10.244.0.1:8080,10.244.0.2:8080,10.244.0.3:8080 + 0 more...");
    assert.equal(formatEndpointSlices([slice([["10.244.0.7", false]])], "http"), "");
    const w = new PrefixWriter();
    describeService(w, svc, {
      endpoints: {
        metadata: { name: "web" },
        subsets: [{ addresses: [{ ip: "10.244.0.9" }], ports: [{ name: "http", port: 8080, protocol: "TCP" }] }],
      } as unknown as import("#pkg/api/types/index.js").Endpoints,
    });
    assert.match(w.toString(), /Endpoints:\s+10\.244\.0\.9:8080\n/);
  });
});

describe("describe storage", () => {
  test("pvc: Used By sorted, conditions with Go's zero time for unset times", () => {
    const w = new PrefixWriter();
    describePersistentVolumeClaim(
      w,
      {
        metadata: { name: "data", namespace: "ns", finalizers: ["kubernetes.io/pvc-protection"] },
        spec: { accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem", storageClassName: "" },
        status: {
          phase: "Pending",
          conditions: [{ type: "Resizing", status: "True", lastTransitionTime: "2026-11-22T00:30:21Z" }],
        },
      } as unknown as PersistentVolumeClaim,
      [{ metadata: { name: "b" } }, { metadata: { name: "a" } }] as unknown as Pod[],
    );
    const out = w.toString();
    assert.match(out, /^Name:\s+data\nNamespace:\s+ns\nStorageClass:\s+\nStatus:\s+Pending\nVolume:\s+\n/);
    assert.match(
      out,
      /\nFinalizers:\s+\[kubernetes\.io\/pvc-protection\]\nCapacity:\s+\nAccess Modes:\s+\nVolumeMode:\s+Filesystem\n/,
    );
    assert.match(out, /\nUsed By:\s+a\n\s+b\n/);
    assert.match(
      out,
      /\n {2}Resizing\s+True\s+Mon, 01 Jan 0001 00:00:00 \+0000\s+Sun, 22 Nov 2026 00:30:21 \+0000\s+\n$/,
    );
  });

  test("storageclass: unset expansion, no mount options, default marker", () => {
    const w = new PrefixWriter();
    describeStorageClass(w, {
      metadata: { name: "std", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      provisioner: "rancher.io/local-path",
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
    } as StorageClass);
    assert.equal(
      w.toString(),
      "Name:                  std\nIsDefaultClass:        Yes\nAnnotations:           storageclass.kubernetes.io/is-default-class=true\nProvisioner:           rancher.io/local-path\nParameters:            <none>\nAllowVolumeExpansion:  <unset>\nMountOptions:          <none>\nReclaimPolicy:         Delete\nVolumeBindingMode:     WaitForFirstConsumer\n",
    );
  });
});
