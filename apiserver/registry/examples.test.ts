// Manifests in the shape of the Kubernetes documentation's examples must be accepted unchanged:
// no unknown fields, no validation errors.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import { registry } from "#pkg/api/resources.js";
import { strategyFor, unknownFields } from "./strategies.js";

const examples: KubeObject[] = [
  {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "nginx" } },
      serviceName: "nginx",
      replicas: 3,
      minReadySeconds: 10,
      template: {
        metadata: { labels: { app: "nginx" } },
        spec: {
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: "nginx",
              image: "registry.k8s.io/nginx-slim:0.24",
              ports: [{ containerPort: 80, name: "web" }],
              volumeMounts: [{ name: "www", mountPath: "/usr/share/nginx/html" }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "www" },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "my-storage-class",
            resources: { requests: { storage: "1Gi" } },
          },
        },
      ],
    },
  },
  {
    // https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "nginx", namespace: "default" },
    spec: {
      replicas: 3,
      selector: { app: "nginx" },
      template: {
        metadata: { name: "nginx", labels: { app: "nginx" } },
        spec: { containers: [{ name: "nginx", image: "nginx", ports: [{ containerPort: 80 }] }] },
      },
    },
  },
  {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "fluentd-elasticsearch", namespace: "kube-system", labels: { "k8s-app": "fluentd-logging" } },
    spec: {
      selector: { matchLabels: { name: "fluentd-elasticsearch" } },
      template: {
        metadata: { labels: { name: "fluentd-elasticsearch" } },
        spec: {
          tolerations: [
            { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
            { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
          ],
          containers: [
            {
              name: "fluentd-elasticsearch",
              image: "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
              resources: { limits: { memory: "200Mi" }, requests: { cpu: "100m", memory: "200Mi" } },
              volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
            },
          ],
          terminationGracePeriodSeconds: 30,
          volumes: [{ name: "varlog", hostPath: { path: "/var/log" } }],
        },
      },
    },
  },
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "dapi-test-pod", namespace: "default" },
    spec: {
      containers: [
        {
          name: "test-container",
          image: "registry.k8s.io/busybox",
          command: ["/bin/sh", "-c", "env"],
          env: [
            {
              name: "SPECIAL_LEVEL_KEY",
              valueFrom: { configMapKeyRef: { name: "special-config", key: "special.how" } },
            },
            { name: "MY_POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            {
              name: "MY_CPU_LIMIT",
              valueFrom: { resourceFieldRef: { containerName: "test-container", resource: "limits.cpu" } },
            },
          ],
          envFrom: [{ configMapRef: { name: "special-config" } }],
          livenessProbe: {
            httpGet: { path: "/healthz", port: 8080, httpHeaders: [{ name: "X", value: "y" }] },
            initialDelaySeconds: 3,
          },
          readinessProbe: { tcpSocket: { port: "http" }, periodSeconds: 5 },
          startupProbe: { exec: { command: ["cat", "/tmp/healthy"] }, failureThreshold: 30 },
          lifecycle: { preStop: { exec: { command: ["/bin/sh", "-c", "sleep 5"] } } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          ports: [{ name: "http", containerPort: 8080 }],
        },
      ],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["a"] }] },
            ],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 1, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
          ],
        },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] },
                topologyKey: "kubernetes.io/hostname",
              },
            },
          ],
        },
      },
      securityContext: { runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } },
      restartPolicy: "Never",
      volumes: [
        { name: "config", configMap: { name: "special-config", items: [{ key: "a", path: "a.txt" }] } },
        {
          name: "token",
          projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3600 } }] },
        },
        { name: "cache", emptyDir: { sizeLimit: "500Mi" } },
      ],
    },
  },
  {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "hello", namespace: "default" },
    spec: {
      schedule: "* * * * *",
      jobTemplate: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: "hello",
                  image: "busybox:1.28",
                  imagePullPolicy: "IfNotPresent",
                  command: ["/bin/sh", "-c", "date"],
                },
              ],
              restartPolicy: "OnFailure",
            },
          },
        },
      },
    },
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "my-service", namespace: "default" },
    spec: {
      selector: { "app.kubernetes.io/name": "MyApp" },
      ports: [
        { name: "http", protocol: "TCP", port: 80, targetPort: 9376 },
        { name: "https", protocol: "TCP", port: 443, targetPort: "https" },
      ],
    },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "secret-tls", namespace: "default" },
    type: "kubernetes.io/tls",
    data: { "tls.crt": "Y2VydA==", "tls.key": "a2V5" },
  },
  {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "node-1", namespace: "kube-node-lease" },
    spec: { holderIdentity: "node-1", leaseDurationSeconds: 40, renewTime: "2024-05-01T11:59:59.123456Z" },
  },
  {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "zk-pdb", namespace: "default" },
    spec: { minAvailable: 2, selector: { matchLabels: { app: "zookeeper" } } },
  },
  {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web-pdb", namespace: "default" },
    spec: {
      maxUnavailable: "25%",
      unhealthyPodEvictionPolicy: "AlwaysAllow",
      selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] },
    },
  },
];

test("documentation-style manifests are accepted as they are", () => {
  for (const ex of examples) {
    const r = registry.byKind(ex.apiVersion ?? "", ex.kind ?? "");
    assert.ok(r, ex.kind);
    assert.deepEqual(unknownFields(r, ex), [], ex.kind);
    const s = strategyFor(r);
    const obj = structuredClone(ex);
    obj.metadata.uid = "u";
    s.applyDefaults(obj);
    s.prepareForCreate(obj);
    assert.deepEqual(s.validate(obj), [], ex.kind);
    // a second pass of defaults changes nothing (PUT of what GET returned)
    const again = structuredClone(obj);
    s.applyDefaults(again);
    s.prepareForUpdate(again, obj);
    assert.deepEqual(s.validateUpdate(again, obj), [], `${ex.kind} update`);
    assert.deepEqual(again, obj, `${ex.kind} defaults are idempotent`);
  }
});
