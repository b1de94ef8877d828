import assert from "node:assert/strict";
import { test } from "node:test";
import { KIND_SCHEMAS } from "../types/schemas.js";
import {
  compile,
  decode,
  decodeWatchEvent,
  encode,
  encodeMessage,
  encodeWatchEvent,
  messageFor,
  missingFields,
  unwrap,
  wrap,
} from "./codec.js";
import { sampleOf } from "./sample.js";

const meta = (name: string, namespace?: string) => ({
  name,
  ...(namespace ? { namespace } : {}),
  uid: "0d4f5a8e-3c1b-4a8e-9d2c-6f1e2b3c4d5e",
  resourceVersion: "42",
  generation: 2,
  creationTimestamp: "2026-12-04T10:11:12Z",
  labels: { app: "web", tier: "front" },
  annotations: { "kubernetes.io/description": "an example" },
  finalizers: ["example.com/keep"],
  ownerReferences: [
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "web-1",
      uid: "u-1",
      controller: true,
      blockOwnerDeletion: true,
    },
  ],
  managedFields: [
    {
      manager: "kubectl-create",
      operation: "Update" as const,
      apiVersion: "v1",
      time: "2026-12-04T10:11:12Z",
      fieldsType: "FieldsV1" as const,
      fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app": {} } } },
    },
  ],
});

const podSpec = {
  volumes: [
    { name: "data", emptyDir: { sizeLimit: "1Gi" } },
    { name: "cfg", configMap: { name: "web-config", defaultMode: 420, items: [{ key: "a", path: "a.txt" }] } },
    { name: "tok", secret: { secretName: "tok", optional: false } },
  ],
  initContainers: [{ name: "init", image: "busybox", command: ["sh", "-c", "true"] }],
  containers: [
    {
      name: "web",
      image: "nginx:1.27",
      args: ["-g", "daemon off;"],
      ports: [{ name: "http", containerPort: 80, protocol: "TCP" }],
      env: [
        { name: "MODE", value: "prod" },
        { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "KEY", valueFrom: { secretKeyRef: { name: "tok", key: "k" } } },
      ],
      envFrom: [{ configMapRef: { name: "web-config" }, prefix: "CFG_" }],
      resources: { limits: { cpu: "500m", memory: "128Mi" }, requests: { cpu: "250m" } },
      volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
      livenessProbe: { httpGet: { path: "/healthz", port: "http" }, initialDelaySeconds: 3, periodSeconds: 10 },
      readinessProbe: { tcpSocket: { port: 80 }, failureThreshold: 3 },
      securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      imagePullPolicy: "IfNotPresent",
    },
  ],
  restartPolicy: "Always",
  terminationGracePeriodSeconds: 0,
  dnsPolicy: "ClusterFirst",
  nodeSelector: { "kubernetes.io/os": "linux" },
  serviceAccountName: "web",
  automountServiceAccountToken: false,
  tolerations: [{ key: "k", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 30 }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }],
      },
    },
  },
};

const examples: Record<string, unknown>[] = [
  {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: meta("team"),
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  },
  {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta("cfg", "team"),
    data: { a: "1", empty: "" },
    binaryData: { b: "AAEC" },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta("s", "team"),
    type: "Opaque",
    data: { password: "czNjcjN0" },
    immutable: true,
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta("web", "team"),
    spec: {
      type: "NodePort",
      selector: { app: "web" },
      ports: [
        { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
        { name: "named", protocol: "TCP", port: 81, targetPort: "http" },
      ],
      clusterIP: "10.96.0.10",
      clusterIPs: ["10.96.0.10"],
      sessionAffinity: "None",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
    },
    status: { loadBalancer: {} },
  },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta("web-0", "team"),
    spec: {
      ...podSpec,
      ephemeralContainers: [
        {
          name: "debugger-x7k2p",
          image: "busybox:1.36",
          command: ["sh"],
          stdin: true,
          tty: true,
          targetContainerName: "web",
          terminationMessagePolicy: "File",
          imagePullPolicy: "IfNotPresent",
          securityContext: { capabilities: { add: ["SYS_PTRACE"] } },
        },
      ],
    },
    status: {
      phase: "Running",
      podIP: "10.244.0.5",
      startTime: "2026-12-04T10:11:13Z",
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2026-12-04T10:11:14Z" }],
      containerStatuses: [
        {
          name: "web",
          ready: true,
          restartCount: 0,
          image: "nginx:1.27",
          state: { running: { startedAt: "2026-12-04T10:11:14Z" } },
        },
      ],
      ephemeralContainerStatuses: [
        {
          name: "debugger-x7k2p",
          ready: false,
          restartCount: 0,
          image: "busybox:1.36",
          state: { terminated: { exitCode: 0, reason: "Completed", finishedAt: "2026-12-04T10:12:14Z" } },
        },
      ],
    },
  },
  {
    // The pod fields newer than kubectl 1.33's descriptors (numbers from 1.34's generated.proto).
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta("restarts", "team"),
    spec: {
      hostnameOverride: "custom-host",
      containers: [
        {
          name: "c",
          image: "busybox",
          restartPolicy: "Never",
          restartPolicyRules: [{ action: "Restart", exitCodes: { operator: "In", values: [42, 43] } }],
        },
      ],
      volumes: [
        {
          name: "certs",
          projected: {
            sources: [
              {
                podCertificate: {
                  signerName: "example.com/signer",
                  keyType: "ED25519",
                  maxExpirationSeconds: 86400,
                  credentialBundlePath: "bundle.pem",
                },
              },
            ],
          },
        },
      ],
    },
  },
  {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: meta("web", "team"),
    spec: { replicas: 0 },
    status: { replicas: 3, selector: "app=web" },
  },
  {
    apiVersion: "policy/v1",
    kind: "Eviction",
    metadata: { name: "web-0", namespace: "team" },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: "u-1" }, dryRun: ["All"] },
  },
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("web", "team"),
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "Exists" }] },
      template: { metadata: { creationTimestamp: null, labels: { app: "web" } }, spec: podSpec },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 1 } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 3,
      conditions: [
        {
          type: "Available",
          status: "True",
          lastUpdateTime: "2026-12-04T10:11:12Z",
          lastTransitionTime: "2026-12-04T10:11:12Z",
          reason: "MinimumReplicasAvailable",
          message: "ok",
        },
      ],
    },
  },
  {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta("pi", "team"),
    spec: {
      parallelism: 2,
      completions: 5,
      backoffLimit: 0,
      completionMode: "Indexed",
      template: { metadata: {}, spec: { ...podSpec, restartPolicy: "Never" } },
    },
    status: { active: 1, succeeded: 2, startTime: "2026-12-04T10:11:12Z" },
  },
  {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: meta("tick", "team"),
    spec: {
      schedule: "*/1 * * * *",
      concurrencyPolicy: "Forbid",
      suspend: false,
      successfulJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { name: "tick" },
        spec: { template: { metadata: {}, spec: { ...podSpec, restartPolicy: "OnFailure" } } },
      },
    },
    status: { lastScheduleTime: "2026-12-04T10:11:00Z" },
  },
  {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: meta("robot", "team"),
    automountServiceAccountToken: false,
    imagePullSecrets: [{ name: "reg" }],
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta("reader", "team"),
    rules: [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] }],
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: meta("agg"),
    rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }],
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/agg": "true" } }] },
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta("read", "team"),
    subjects: [
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "jane" },
      { kind: "ServiceAccount", name: "robot", namespace: "team" },
    ],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: meta("read-all"),
    subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "devs" }],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
  },
  {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: meta("q", "team"),
    spec: { hard: { pods: "10", "requests.cpu": "2" }, scopes: ["NotBestEffort"] },
    status: { hard: { pods: "10" }, used: { pods: "1" } },
  },
  {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta("pdb", "team"),
    spec: { minAvailable: "50%", selector: { matchLabels: { app: "web" } }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
    status: { currentHealthy: 2, desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 2 },
  },
  {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: meta("node-1", "kube-node-lease"),
    spec: { holderIdentity: "node-1", leaseDurationSeconds: 40, renewTime: "2026-12-04T10:11:12.123456Z" },
  },
  {
    apiVersion: "v1",
    kind: "Event",
    metadata: meta("web.1", "team"),
    involvedObject: {
      kind: "Pod",
      namespace: "team",
      name: "web",
      uid: "u",
      apiVersion: "v1",
      fieldPath: "spec.containers{web}",
    },
    reason: "Pulled",
    message: "pulled",
    source: { component: "kubelet", host: "node-1" },
    firstTimestamp: "2026-12-04T10:11:12Z",
    lastTimestamp: "2026-12-04T10:11:12Z",
    count: 2,
    type: "Normal",
    eventTime: "2026-12-04T10:11:12.000001Z",
    reportingComponent: "kubelet",
    reportingInstance: "node-1",
  },
  {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name: "high" },
    value: 1000,
    globalDefault: true,
    description: "for the important ones",
    preemptionPolicy: "Never",
  },
  // value has no omitempty: a class of value 0 keeps it.
  { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "zero" }, value: 0 },
  {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    metadata: {},
    spec: {
      user: "jane",
      groups: ["devs"],
      extra: { scopes: ["a", "b"] },
      resourceAttributes: { namespace: "team", verb: "get", resource: "pods" },
    },
    status: { allowed: true, reason: "RBAC" },
  },
  {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: meta("web-7f9c", "team"),
    data: { spec: { template: { $patch: "replace" } } },
    revision: 3,
  },
];

// First in this file, so that the process compiles the StatefulSet before the PVC: its claim
// templates leave dataSource opaque, the PVC's schema declares its fields, and a message shared
// by kinds must hold them whichever kind comes first.
test("a StatefulSet first: its claim template's dataSource has the PVC schema's fields", () => {
  const sts = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db" },
    spec: {
      selector: { matchLabels: { app: "db" } },
      template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "postgres" }] } },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap" } },
        },
      ],
    },
  };
  const pb = encode(sts);
  assert.ok(pb, "encodable");
  assert.deepEqual(decode(pb), { object: sts, unknown: [] });
});

test("compile merges a message's nested messages across schemas, an opaque one first", () => {
  const opaque = { type: "object", properties: { typeMeta: { "x-kubernetes-preserve-unknown-fields": true } } };
  const typed = {
    type: "object",
    properties: { typeMeta: { type: "object", properties: { apiVersion: { type: "string" } } } },
  };
  assert.deepEqual([...(compile("runtime.Unknown", opaque).byName.get("typeMeta")?.msg?.byName.keys() ?? [])], []);
  const m = compile("runtime.Unknown", typed);
  assert.deepEqual([...(m.byName.get("typeMeta")?.msg?.byName.keys() ?? [])], ["apiVersion"]);
});

test("a Pod's ephemeral claim template spec, opaque in the Pod schema, has the PVC's fields; others answer in JSON", () => {
  const pod = (spec: Record<string, unknown>) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: [{ name: "v", ephemeral: { volumeClaimTemplate: { metadata: { labels: { a: "b" } }, spec } } }],
    },
  });
  const typed = pod({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } });
  const pb = encode(typed);
  assert.ok(pb, "encodable");
  assert.deepEqual(decode(pb), { object: typed, unknown: [] });
  assert.equal(encode(pod({ notAField: "x" })), undefined, "a field no schema declares: JSON, not dropped");
});

test("a Pod's and a PV's in-tree volume sources go through protobuf with nothing unknown, lun 0 kept", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: [
        { name: "ebs", awsElasticBlockStore: { volumeID: "vol-1", fsType: "ext4", partition: 1, readOnly: true } },
        { name: "iscsi", iscsi: { targetPortal: "10.0.0.1:3260", iqn: "iqn.x", lun: 0, secretRef: { name: "chap" } } },
        { name: "rbd", rbd: { monitors: ["10.0.0.2:6789"], image: "img", secretRef: { name: "ceph" } } },
        { name: "flex", flexVolume: { driver: "example/flex", options: { a: "b" }, secretRef: { name: "f" } } },
        { name: "git", gitRepo: { repository: "https://example.com/r.git", revision: "main" } },
        { name: "az", azureDisk: { diskName: "d", diskURI: "uri", readOnly: false, kind: "Managed" } },
        { name: "fc", fc: { targetWWNs: ["500a0981891b8dc5"], lun: 0 } },
        { name: "sio", scaleIO: { gateway: "https://gw", system: "sys", secretRef: { name: "sio" } } },
        {
          name: "ctb",
          projected: {
            sources: [{ clusterTrustBundle: { signerName: "example.com/s", labelSelector: {}, path: "ca.pem" } }],
          },
        },
      ],
    },
  };
  const pv = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "pv" },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      iscsi: { targetPortal: "10.0.0.1:3260", iqn: "iqn.x", lun: 0, secretRef: { name: "chap", namespace: "ns" } },
      storageos: { volumeName: "v", secretRef: { kind: "Secret", namespace: "ns", name: "s" } },
    },
  };
  for (const obj of [pod, pv]) {
    const pb = encode(obj);
    assert.ok(pb, `${obj.kind} encodable`);
    assert.deepEqual(decode(pb), { object: obj, unknown: [] });
  }
});

test("a Job's podFailurePolicy and successPolicy go through protobuf with nothing unknown", () => {
  const job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "j" },
    spec: {
      completions: 3,
      completionMode: "Indexed",
      template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] } },
      podFailurePolicy: {
        rules: [
          { action: "FailJob", onExitCodes: { containerName: "main", operator: "In", values: [1, 42] } },
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
          { action: "Count", onExitCodes: { operator: "NotIn", values: [0] } },
        ],
      },
      successPolicy: { rules: [{ succeededIndexes: "0,2-3", succeededCount: 2 }, { succeededCount: 1 }] },
    },
  };
  const pb = encode(job);
  assert.ok(pb, "encodable");
  assert.deepEqual(decode(pb), { object: job, unknown: [] });
});

test("a Pod's resourceClaims, claim statuses and container status mounts, user and device health go through protobuf", () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: {
      containers: [{ name: "c", image: "busybox", resources: { claims: [{ name: "gpu" }] } }],
      resourceClaims: [
        { name: "gpu", resourceClaimTemplateName: "gpu-template" },
        { name: "shared", resourceClaimName: "shared-claim" },
      ],
    },
    status: {
      phase: "Running",
      containerStatuses: [
        {
          name: "c",
          ready: true,
          restartCount: 0,
          image: "busybox",
          imageID: "docker-pullable://busybox@sha256:1",
          volumeMounts: [
            { name: "data", mountPath: "/data", readOnly: true, recursiveReadOnly: "Enabled" },
            { name: "kube-api-access", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
          ],
          user: { linux: { uid: 0, gid: 0, supplementalGroups: [0, 10] } },
          allocatedResourcesStatus: [
            { name: "claim:gpu/gpu", resources: [{ resourceID: "gpu-0", health: "Healthy" }] },
          ],
        },
      ],
      resourceClaimStatuses: [{ name: "gpu", resourceClaimName: "p-gpu-x7k2q" }],
    },
  };
  const pb = encode(pod);
  assert.ok(pb, "encodable");
  assert.deepEqual(decode(pb), { object: pod, unknown: [] });
});

test("a Node's configSource, config, runtimeHandlers and features go through protobuf, zeros kept", () => {
  const source = (name: string) => ({
    configMap: { namespace: "kube-system", name, uid: "u-cm", resourceVersion: "9", kubeletConfigKey: "kubelet" },
  });
  const node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n" },
    spec: { configSource: source("cfg-2") },
    status: {
      config: { assigned: source("cfg-2"), active: source("cfg-1"), lastKnownGood: source("cfg-1"), error: "bad" },
      runtimeHandlers: [
        { name: "", features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
        { name: "runc", features: { recursiveReadOnlyMounts: false, userNamespaces: true } },
      ],
      features: { supplementalGroupsPolicy: false },
    },
  };
  const pb = encode(node);
  assert.ok(pb, "encodable");
  assert.deepEqual(decode(pb), { object: node, unknown: [] });
});

test("every kind's schema fields have field numbers (but NodeStatus.declaredFeatures, newer than 1.34)", () => {
  const newer = new Set(["core.v1.NodeStatus.declaredFeatures"]);
  for (const key of Object.keys(KIND_SCHEMAS)) {
    const slash = key.lastIndexOf("/");
    const m = messageFor(key.slice(0, slash), key.slice(slash + 1));
    assert.ok(m, `${key} has a message`);
    const missing = missingFields(m).filter((f) => !newer.has(f));
    assert.deepEqual(missing, [], key);
  }
});

for (const ex of examples) {
  test(`JSON -> protobuf -> JSON gives the same ${ex.kind}`, () => {
    const pb = encode(ex);
    assert.ok(pb, "encodable");
    const back = decode(pb);
    assert.deepEqual(back?.unknown, []);
    assert.deepEqual(back?.object, ex);
  });
}

// Schema-driven: every kind of KIND_SCHEMAS, every field filled (sample.ts), each IntOrString in
// both forms across the two variants; and the kind's List holding the sample.
for (const [key, schema] of Object.entries(KIND_SCHEMAS)) {
  const slash = key.lastIndexOf("/");
  const apiVersion = key.slice(0, slash);
  const kind = key.slice(slash + 1);
  test(`JSON -> protobuf -> JSON gives the same ${key}, every field filled`, () => {
    const m = messageFor(apiVersion, kind);
    assert.ok(m, `${key} has a message`);
    for (const variant of [0, 1]) {
      const sample = sampleOf(apiVersion, kind, schema, m, variant);
      assert.deepEqual(sample.mismatched, [], "schema forms and wire forms agree");
      assert.deepEqual(sample.skipped, key === "v1/Node" ? ["core.v1.NodeStatus.declaredFeatures"] : []);
      const pb = encode(sample.object);
      assert.ok(pb, "encodable");
      const back = decode(pb);
      assert.deepEqual(back?.unknown, []);
      assert.deepEqual(back?.object, sample.object);
    }
    const list = messageFor(apiVersion, `${kind}List`);
    if (list) {
      const { apiVersion: _a, kind: _k, ...item } = sampleOf(apiVersion, kind, schema, m).object;
      const obj = { apiVersion, kind: `${kind}List`, metadata: { resourceVersion: "7", continue: "c" }, items: [item] };
      const pb = encode(obj);
      assert.ok(pb, "the list is encodable");
      assert.deepEqual(decode(pb)?.object, obj);
    }
  });
}

test("a List: metadata and items", () => {
  const list = {
    apiVersion: "v1",
    kind: "ConfigMapList",
    metadata: { resourceVersion: "99", continue: "abc" },
    items: [examples[1]].map((o) => {
      const { apiVersion: _a, kind: _k, ...rest } = o as Record<string, unknown>;
      return rest;
    }),
  };
  const pb = encode(list);
  assert.ok(pb);
  assert.deepEqual(decode(pb)?.object, list);
  // Items come from a per-object cache the second time; the bytes are the generic encoder's.
  const m = messageFor("v1", "ConfigMapList");
  assert.ok(m);
  assert.deepEqual(encode(list), wrap("v1", "ConfigMapList", encodeMessage(list, m)));
  assert.deepEqual(encode(list), pb);
});

test("the bytes of a simple ConfigMap, assembled by hand", () => {
  const pb = encode({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "a", labels: { k: "v" } },
    data: { x: "y" },
  });
  // ObjectMeta{name=1 "a", labels=11 {key=1 "k", value=2 "v"}}
  const objectMeta = [0x0a, 0x01, 0x61, 0x5a, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76];
  // ConfigMap{metadata=1, data=2 {key=1 "x", value=2 "y"}}
  const raw = [0x0a, objectMeta.length, ...objectMeta, 0x12, 0x06, 0x0a, 0x01, 0x78, 0x12, 0x01, 0x79];
  const typeMeta = [0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, ...Buffer.from("ConfigMap")];
  const expected = Buffer.from([
    0x6b,
    0x38,
    0x73,
    0x00,
    0x0a,
    typeMeta.length,
    ...typeMeta,
    0x12,
    raw.length,
    ...raw,
    0x1a,
    0x00,
    0x22,
    0x00,
  ]);
  assert.deepEqual(pb, expected);
});

test("Go's marshalling of zero values: empty strings and zero ints dropped, pointers and empty structs kept", () => {
  // Deployment{metadata{name "d", generateName "", creationTimestamp {}}, spec{replicas 0, minReadySeconds 0, strategy {}}}
  const raw = Buffer.from([
    0x0a, 0x07, 0x0a, 0x01, 0x64, 0x12, 0x00, 0x42, 0x00, 0x12, 0x06, 0x08, 0x00, 0x28, 0x00, 0x22, 0x00,
  ]);
  const r = decode(wrap("apps/v1", "Deployment", raw));
  assert.deepEqual(r?.object, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", creationTimestamp: null },
    spec: { replicas: 0, strategy: {} },
  });
});

test("unknown field numbers are reported with their path", () => {
  // Namespace{metadata{name "n", 99: "x"}}
  const raw = Buffer.from([0x0a, 0x07, 0x0a, 0x01, 0x6e, 0x9a, 0x06, 0x01, 0x78]);
  const r = decode(wrap("v1", "Namespace", raw));
  assert.deepEqual(r?.unknown, ["metadata.99"]);
  assert.deepEqual(r?.object, { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } });
});

test("an object with a field that has no number is not encodable; unknown kinds neither", () => {
  assert.equal(encode({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, bogus: 1 }), undefined);
  assert.equal(encode({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "a" } }), undefined);
  assert.equal(decode(wrap("example.com/v1", "Widget", new Uint8Array())), undefined);
  assert.throws(() => unwrap(Buffer.from("{}")), /envelope/);
});

test("Status and watch events", () => {
  const status = {
    apiVersion: "v1",
    kind: "Status",
    metadata: {},
    status: "Failure",
    message: 'pods "x" not found',
    reason: "NotFound",
    details: { name: "x", kind: "pods" },
    code: 404,
  };
  const pb = encode(status);
  assert.ok(pb);
  assert.deepEqual(decode(pb)?.object, status);
  const ev = decodeWatchEvent(encodeWatchEvent("ADDED", pb));
  assert.equal(ev.type, "ADDED");
  assert.deepEqual(Buffer.from(ev.object), pb);
});
