import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import { BUILTIN_RESOURCES, registry } from "#pkg/api/resources.js";
import type { Deployment, Job, Namespace, Pod, Service } from "#pkg/api/types/index.js";
import { podPrintStatus, strategyFor, unknownFields } from "./strategies.js";

const res = (name: string) => {
  const r = registry.lookup(name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};
const NOW = new Date("2024-05-01T12:00:00Z");

/** What the store does on create: uid/generation, defaults, prepare, validate. */
function create<T extends KubeObject>(resource: string, obj: T): { obj: T; errors: ReturnType<typeof validate> } {
  const s = strategyFor(res(resource));
  const o = structuredClone(obj);
  o.metadata.uid = "uid-1";
  o.metadata.generation = 1;
  o.metadata.creationTimestamp = "2024-05-01T11:55:00Z";
  s.applyDefaults(o);
  s.prepareForCreate(o);
  return { obj: o, errors: s.validate(o) };
}
function validate(): Array<{ field: string; type: string; message: string }> {
  return [];
}
function update<T extends KubeObject>(resource: string, next: T, old: T, status = false) {
  const s = strategyFor(res(resource));
  const o = structuredClone(next);
  o.metadata.generation = old.metadata.generation;
  s.applyDefaults(o);
  if (status) s.prepareForStatusUpdate(o, old);
  else s.prepareForUpdate(o, old);
  return { obj: o, errors: s.validateUpdate(o, old) };
}

const pod = (over: Partial<Pod["spec"]> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default" },
  spec: { containers: [{ name: "c", image: "nginx" }], ...over },
});

describe("every built-in resource", () => {
  test("has a strategy whose rows match its columns", () => {
    for (const r of BUILTIN_RESOURCES) {
      const s = strategyFor(r);
      assert.equal(s.resource, r);
      const row = s.row({ metadata: { name: "x", creationTimestamp: "2024-05-01T11:59:00Z" } } as KubeObject, NOW);
      assert.equal(row.length, s.columns.length, r.resource);
      assert.ok(
        s.columns.some((c) => c.name === "Name" && c.format === "name"),
        r.resource,
      );
    }
  });
});

describe("Pod", () => {
  test("defaults and create-time status", () => {
    const { obj, errors } = create(
      "pods",
      pod({ containers: [{ name: "c", image: "nginx", ports: [{ containerPort: 80 }] }] }),
    );
    assert.deepEqual(errors, []);
    const spec = obj.spec!;
    assert.equal(spec.restartPolicy, "Always");
    assert.equal(spec.dnsPolicy, "ClusterFirst");
    assert.equal(spec.terminationGracePeriodSeconds, 30);
    assert.equal(spec.schedulerName, "default-scheduler");
    assert.equal(spec.enableServiceLinks, true);
    // serviceAccountName, priority and the default tolerations are admission's (apiserver/admission).
    assert.equal(spec.serviceAccountName, undefined);
    const c = spec.containers[0]!;
    assert.equal(c.imagePullPolicy, "Always");
    assert.equal(c.terminationMessagePath, "/dev/termination-log");
    assert.equal(c.terminationMessagePolicy, "File");
    assert.equal(c.ports?.[0]?.protocol, "TCP");
    assert.equal(spec.tolerations, undefined);
    assert.deepEqual(obj.status, { phase: "Pending", qosClass: "BestEffort" });
  });

  test("imagePullPolicy by tag, QoS Guaranteed, canonical quantities", () => {
    const { obj } = create(
      "pods",
      pod({
        containers: [
          { name: "a", image: "nginx:1.25", resources: { limits: { cpu: "0.5", memory: "128Mi" } } },
          { name: "b", image: "reg:5000/x:latest", resources: { limits: { cpu: 1, memory: "1Gi" } } },
        ],
      }),
    );
    assert.equal(obj.spec?.containers[0]?.imagePullPolicy, "IfNotPresent");
    assert.equal(obj.spec?.containers[1]?.imagePullPolicy, "Always");
    assert.deepEqual(obj.spec?.containers[0]?.resources, {
      limits: { cpu: "500m", memory: "128Mi" },
      requests: { cpu: "500m", memory: "128Mi" },
    });
    assert.equal(obj.spec?.containers[1]?.resources?.limits?.cpu, "1");
    assert.equal(obj.status?.qosClass, "Guaranteed");
  });

  test("validation messages", () => {
    const { errors } = create(
      "pods",
      pod({
        containers: [
          { name: "c", image: "" },
          { name: "c", image: "x", ports: [{ containerPort: 70000 }] },
          { name: "Bad", image: "x", volumeMounts: [{ name: "nope", mountPath: "/d" }] },
        ],
        restartPolicy: "Sometimes",
      }),
    );
    const byField = Object.fromEntries(errors.map((e) => [e.field, e.message]));
    assert.equal(byField["spec.containers[0].image"], "Required value");
    assert.equal(byField["spec.containers[1].name"], 'Duplicate value: "c"');
    assert.equal(
      byField["spec.containers[1].ports[0].containerPort"],
      "Invalid value: 70000: must be between 1 and 65535, inclusive",
    );
    assert.match(byField["spec.containers[2].name"] ?? "", /^Invalid value: "Bad": a lowercase RFC 1123 label/);
    assert.equal(byField["spec.containers[2].volumeMounts[0].name"], 'Not found: "nope"');
    assert.equal(
      byField["spec.restartPolicy"],
      'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    );
    const dupHost = create(
      "pods",
      pod({
        containers: [
          { name: "a", image: "x", ports: [{ containerPort: 80, hostPort: 8080 }] },
          { name: "b", image: "x", ports: [{ containerPort: 81, hostPort: 8080 }] },
        ],
      }),
    ).errors;
    assert.deepEqual(dupHost, [
      {
        field: "spec.containers[1].ports[0].hostPort",
        type: "FieldValueDuplicate",
        message: 'Duplicate value: "8080/TCP"',
      },
    ]);
    assert.deepEqual(create("pods", pod({ containers: [] })).errors, [
      { field: "spec.containers", type: "FieldValueRequired", message: "Required value" },
    ]);
  });

  test("update: image may change, other spec fields may not, status is kept", () => {
    const { obj: old } = create("pods", pod());
    old.status = { phase: "Running", podIP: "10.0.0.5" };
    const next = structuredClone(old);
    next.spec!.containers[0]!.image = "nginx:2";
    next.status = { phase: "Failed" };
    const ok = update("pods", next, old);
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.obj.status, { phase: "Running", podIP: "10.0.0.5" });
    assert.equal(ok.obj.metadata.generation, 2);

    const bad = structuredClone(old);
    bad.spec!.restartPolicy = "Never";
    const res2 = update("pods", bad, old);
    assert.equal(res2.errors.length, 1);
    assert.equal(res2.errors[0]?.field, "spec");
    assert.match(res2.errors[0]?.message ?? "", /^Forbidden: pod updates may not change fields other than/);

    const noop = update("pods", structuredClone(old), old);
    assert.equal(noop.obj.metadata.generation, 1);
  });

  test("status update keeps spec and owner references", () => {
    const { obj: old } = create("pods", pod());
    old.metadata.ownerReferences = [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u", controller: true },
    ];
    const next = structuredClone(old);
    next.spec!.nodeName = "sneaky";
    next.metadata.ownerReferences = [];
    next.status = { phase: "Running", podIP: "10.1.2.3", podIPs: [{ ip: "10.1.2.3" }] };
    const r = update("pods", next, old, true);
    assert.deepEqual(r.errors, []);
    assert.equal(r.obj.spec?.nodeName, undefined);
    assert.equal(r.obj.status?.phase, "Running");
    assert.equal(r.obj.metadata.ownerReferences?.length, 1);
    assert.equal(r.obj.status?.qosClass, "BestEffort");
    assert.equal(r.obj.metadata.generation, 1);
  });

  test("selectable fields", () => {
    const { obj } = create("pods", pod({ nodeName: "n1" }));
    const f = strategyFor(res("pods")).selectableFields(obj);
    assert.equal(f["spec.nodeName"], "n1");
    assert.equal(f["status.phase"], "Pending");
    assert.equal(f["spec.schedulerName"], "default-scheduler");
  });
});

describe("pod STATUS column", () => {
  const base = (status: Pod["status"], extra: Partial<Pod> = {}): Pod => ({
    metadata: { name: "p", creationTimestamp: "2024-05-01T11:00:00Z", ...(extra.metadata ?? {}) },
    spec: extra.spec ?? {
      initContainers: [{ name: "init", image: "x" }],
      containers: [
        { name: "a", image: "x" },
        { name: "b", image: "x" },
      ],
    },
    status,
  });

  test("running and ready", () => {
    const p = base({
      phase: "Running",
      containerStatuses: [
        { name: "a", ready: true, restartCount: 0, image: "x", imageID: "", state: { running: {} } },
        { name: "b", ready: false, restartCount: 2, image: "x", imageID: "", state: { running: {} } },
      ],
    });
    const s = podPrintStatus(p);
    assert.equal(s.ready, "1/2");
    assert.equal(s.status, "Running");
    assert.equal(s.restarts, 2);
  });

  test("CrashLoopBackOff with restart age", () => {
    const p = base({
      phase: "Running",
      conditions: [{ type: "Initialized", status: "True" }],
      containerStatuses: [
        {
          name: "a",
          ready: false,
          restartCount: 4,
          image: "x",
          imageID: "",
          state: { waiting: { reason: "CrashLoopBackOff" } },
          lastState: { terminated: { exitCode: 1, finishedAt: "2024-05-01T11:58:00Z" } },
        },
      ],
    });
    const row = strategyFor(res("pods")).row(p, NOW);
    assert.deepEqual(row.slice(0, 5), ["p", "0/2", "CrashLoopBackOff", "4 (2m ago)", "60m"]);
    assert.deepEqual(row.slice(5), ["<none>", "<none>", "<none>", "<none>"]);
  });

  test("init containers", () => {
    assert.equal(
      podPrintStatus(
        base({
          phase: "Pending",
          initContainerStatuses: [
            { name: "init", ready: false, restartCount: 0, image: "x", imageID: "", state: { running: {} } },
          ],
        }),
      ).status,
      "Init:0/1",
    );
    assert.equal(
      podPrintStatus(
        base({
          phase: "Pending",
          initContainerStatuses: [
            {
              name: "init",
              ready: false,
              restartCount: 1,
              image: "x",
              imageID: "",
              state: { terminated: { exitCode: 3 } },
            },
          ],
        }),
      ).status,
      "Init:ExitCode:3",
    );
    assert.equal(
      podPrintStatus(
        base({
          phase: "Pending",
          initContainerStatuses: [
            {
              name: "init",
              ready: false,
              restartCount: 1,
              image: "x",
              imageID: "",
              state: { waiting: { reason: "CrashLoopBackOff" } },
            },
          ],
        }),
      ).status,
      "Init:CrashLoopBackOff",
    );
  });

  test("Completed, Terminating, Error", () => {
    const done = base({
      phase: "Succeeded",
      containerStatuses: [
        {
          name: "a",
          ready: false,
          restartCount: 0,
          image: "x",
          imageID: "",
          state: { terminated: { exitCode: 0, reason: "Completed" } },
        },
      ],
    });
    assert.equal(podPrintStatus(done).status, "Completed");
    const failed = base({
      phase: "Failed",
      containerStatuses: [
        { name: "a", ready: false, restartCount: 0, image: "x", imageID: "", state: { terminated: { exitCode: 2 } } },
      ],
    });
    assert.equal(podPrintStatus(failed).status, "ExitCode:2");
    const deleting = base({ phase: "Running" }, { metadata: { name: "p", deletionTimestamp: "2024-05-01T11:59:00Z" } });
    assert.equal(podPrintStatus(deleting).status, "Terminating");
    const pending = base({ phase: "Pending" });
    assert.equal(podPrintStatus(pending).status, "Pending");
  });
});

describe("Deployment", () => {
  const dep = (): Deployment => ({
    metadata: { name: "web", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx:1" }] } },
    },
  });

  test("defaults", () => {
    const { obj, errors } = create("deployments", dep());
    assert.deepEqual(errors, []);
    assert.equal(obj.spec?.replicas, 1);
    assert.deepEqual(obj.spec?.strategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" },
    });
    assert.equal(obj.spec?.revisionHistoryLimit, 10);
    assert.equal(obj.spec?.progressDeadlineSeconds, 600);
    assert.equal(obj.spec?.template.spec?.restartPolicy, "Always");
    assert.equal(obj.spec?.template.spec?.containers[0]?.imagePullPolicy, "IfNotPresent");
    // templates get spec defaults, not the pod admission defaults
    assert.equal(obj.spec?.template.spec?.serviceAccountName, undefined);
    assert.deepEqual(obj.status, {});
    assert.equal(obj.metadata.generation, 1);
  });

  test("selector must match template labels; replicas >= 0", () => {
    const d = dep();
    d.spec!.template.metadata!.labels = { app: "other" };
    d.spec!.replicas = -1;
    const { errors } = create("deployments", d);
    assert.deepEqual(
      errors.map((e) => e.field),
      ["spec.template.metadata.labels", "spec.replicas"],
    );
    assert.match(errors[0]?.message ?? "", /`selector` does not match template `labels`/);
    const empty = dep();
    empty.spec!.selector = {};
    assert.match(create("deployments", empty).errors[0]?.message ?? "", /empty selector is invalid for deployment/);
  });

  test("maxSurge and maxUnavailable: not both 0; maxUnavailable at most 100%, maxSurge above allowed", () => {
    const withStrategy = (maxSurge: number | string, maxUnavailable: number | string) => {
      const d = dep();
      d.spec!.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable } };
      return create("deployments", d).errors;
    };
    for (const [surge, unavailable] of [
      [0, 0],
      ["0%", 0],
      [0, "00%"],
    ] as const) {
      const errs = withStrategy(surge, unavailable);
      assert.deepEqual(
        errs.map((e) => e.field),
        ["spec.strategy.rollingUpdate.maxUnavailable"],
        `${surge} / ${unavailable}`,
      );
      assert.match(errs[0]?.message ?? "", /^Invalid value: .*: may not be 0 when `maxSurge` is 0$/);
    }
    assert.deepEqual(withStrategy("200%", 0), []);
    assert.deepEqual(
      withStrategy(1, "101%").map((e) => [e.field, e.message]),
      [["spec.strategy.rollingUpdate.maxUnavailable", 'Invalid value: "101%": must not be greater than 100%']],
    );
    assert.deepEqual(
      withStrategy(-1, 1).map((e) => [e.field, e.message]),
      [["spec.strategy.rollingUpdate.maxSurge", "Invalid value: -1: must be greater than or equal to 0"]],
    );
    assert.match(
      withStrategy("1", 1)[0]?.message ?? "",
      /a valid percent string must be a numeric string followed by an ending '%'/,
    );
  });

  test("generation bumps on spec and annotation changes, not on status", () => {
    const { obj: old } = create("deployments", dep());
    const scaled = structuredClone(old);
    scaled.spec!.replicas = 3;
    assert.equal(update("deployments", scaled, old).obj.metadata.generation, 2);
    const annotated = structuredClone(old);
    annotated.metadata.annotations = { a: "b" };
    assert.equal(update("deployments", annotated, old).obj.metadata.generation, 2);
    const labelled = structuredClone(old);
    labelled.metadata.labels = { x: "y" };
    assert.equal(update("deployments", labelled, old).obj.metadata.generation, 1);
    const st = structuredClone(old);
    st.status = { replicas: 1, observedGeneration: 1 };
    st.spec!.replicas = 9;
    const r = update("deployments", st, old, true);
    assert.equal(r.obj.spec?.replicas, 1);
    assert.deepEqual(r.obj.status, { replicas: 1, observedGeneration: 1 });
    assert.equal(r.obj.metadata.generation, 1);
  });

  test("selector is immutable", () => {
    const { obj: old } = create("deployments", dep());
    const next = structuredClone(old);
    next.spec!.selector = { matchLabels: { app: "web", v: "2" } };
    next.spec!.template.metadata!.labels = { app: "web", v: "2" };
    const { errors } = update("deployments", next, old);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.field, "spec.selector");
    assert.match(errors[0]?.message ?? "", /field is immutable$/);
  });

  test("row", () => {
    const { obj } = create("deployments", dep());
    obj.status = { readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 };
    assert.deepEqual(strategyFor(res("deployments")).row(obj, NOW), [
      "web",
      "1/1",
      1,
      1,
      "5m",
      "c",
      "nginx:1",
      "app=web",
    ]);
  });
});

describe("Service", () => {
  test("defaults, ports cell, clusterIP immutable", () => {
    const svc: Service = {
      metadata: { name: "web", namespace: "default" },
      spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, nodePort: 30080 }] },
    };
    const { obj, errors } = create("services", svc);
    assert.deepEqual(errors, []);
    assert.equal(obj.spec?.sessionAffinity, "None");
    assert.equal(obj.spec?.ports?.[0]?.protocol, "TCP");
    assert.equal(obj.spec?.ports?.[0]?.targetPort, 80);
    obj.spec!.clusterIP = "10.96.0.10";
    obj.spec!.clusterIPs = ["10.96.0.10"];
    const row = strategyFor(res("services")).row(obj, NOW);
    assert.deepEqual(row, ["web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP", "5m", "app=web"]);

    const next = structuredClone(obj);
    next.spec!.clusterIP = "10.96.0.11";
    next.spec!.clusterIPs = ["10.96.0.11"];
    const u = update("services", next, obj);
    assert.deepEqual(
      u.errors.map((e) => e.message),
      ['Invalid value: []string{"10.96.0.11"}: may not change once set'],
    );
    // an update that leaves clusterIP out keeps the allocated one
    const omitted = structuredClone(obj);
    delete omitted.spec!.clusterIP;
    delete omitted.spec!.clusterIPs;
    assert.equal(update("services", omitted, obj).obj.spec?.clusterIP, "10.96.0.10");
  });

  test("ports required, names required when several, nodePort forbidden for ClusterIP", () => {
    const { errors } = create("services", {
      metadata: { name: "s", namespace: "d" },
      spec: { ports: [{ port: 80, nodePort: 30001 }, { port: 0 }] },
    } as Service);
    assert.deepEqual(
      errors.map((e) => `${e.field}: ${e.message}`),
      [
        "spec.ports[0].name: Required value",
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
        "spec.ports[1].name: Required value",
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        // targetPort defaults to port, so it is invalid too (as upstream)
        "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
      ],
    );
  });
});

describe("Namespace, Node, Job, Secret", () => {
  test("namespace create: finalizer, phase, name label", () => {
    const { obj } = create<Namespace>("namespaces", { metadata: { name: "team-a" } });
    assert.deepEqual(obj.spec, { finalizers: ["kubernetes"] });
    assert.deepEqual(obj.status, { phase: "Active" });
    assert.equal(obj.metadata.labels?.["kubernetes.io/metadata.name"], "team-a");
    assert.deepEqual(strategyFor(res("namespaces")).row(obj, NOW), ["team-a", "Active", "5m"]);
  });

  test("node status cell and roles", () => {
    const node = {
      metadata: {
        name: "n1",
        labels: { "node-role.kubernetes.io/control-plane": "" },
        creationTimestamp: "2024-05-01T11:00:00Z",
      },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        nodeInfo: { kubeletVersion: "v1.31.0" },
        addresses: [{ type: "InternalIP", address: "172.17.0.2" }],
      },
    } as unknown as KubeObject;
    const row = strategyFor(res("nodes")).row(node, NOW);
    assert.deepEqual(row.slice(0, 6), [
      "n1",
      "Ready,SchedulingDisabled",
      "control-plane",
      "60m",
      "v1.31.0",
      "172.17.0.2",
    ]);
    // nodes register with their status
    const { obj } = create("nodes", node);
    assert.equal((obj as { status?: { conditions?: unknown[] } }).status?.conditions?.length, 1);
  });

  test("job selector generation, defaults, restartPolicy and template immutability", () => {
    const job: Job = {
      metadata: { name: "pi", namespace: "default" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl:5" }] } } },
    };
    const { obj, errors } = create("jobs", job);
    assert.deepEqual(errors, []);
    assert.equal(obj.spec?.completions, 1);
    assert.equal(obj.spec?.parallelism, 1);
    assert.equal(obj.spec?.backoffLimit, 6);
    assert.deepEqual(obj.spec?.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": "uid-1" } });
    assert.equal(obj.spec?.template.metadata?.labels?.["job-name"], "pi");
    const next = structuredClone(obj);
    next.spec!.template.spec!.containers[0]!.image = "perl:6";
    assert.deepEqual(
      update("jobs", next, obj).errors.map((e) => e.field),
      ["spec.template"],
    );
    const always = structuredClone(job);
    always.spec!.template.spec!.restartPolicy = "Always";
    assert.equal(
      create("jobs", always).errors[0]?.message,
      'Unsupported value: "Always": supported values: "OnFailure", "Never"',
    );
    obj.status = {
      succeeded: 1,
      startTime: "2024-05-01T11:56:00Z",
      completionTime: "2024-05-01T11:56:30Z",
      conditions: [{ type: "Complete", status: "True" }],
    };
    assert.deepEqual(strategyFor(res("jobs")).row(obj, NOW).slice(0, 5), ["pi", "Complete", "1/1", "30s", "5m"]);
  });

  test("secret stringData merges into data; type immutable", () => {
    const { obj, errors } = create("secrets", {
      metadata: { name: "s", namespace: "d" },
      stringData: { pw: "hunter2" },
    });
    assert.deepEqual(errors, []);
    assert.deepEqual((obj as { data?: unknown }).data, { pw: Buffer.from("hunter2").toString("base64") });
    assert.equal((obj as { type?: string }).type, "Opaque");
    const next = { ...structuredClone(obj), type: "kubernetes.io/tls" };
    assert.ok(
      update("secrets", next, obj).errors.some((e) => e.field === "type" && /field is immutable/.test(e.message)),
    );
  });

  test("event selectable fields and row", () => {
    const ev = {
      metadata: { name: "web.1", namespace: "default" },
      involvedObject: { kind: "Pod", name: "web", namespace: "default", uid: "u1" },
      reason: "Pulled",
      message: "pulled ",
      type: "Normal",
      source: { component: "kubelet", host: "n1" },
      count: 3,
      firstTimestamp: "2024-05-01T11:00:00Z",
      lastTimestamp: "2024-05-01T11:59:30Z",
    } as unknown as KubeObject;
    const s = strategyFor(res("events"));
    assert.equal(s.selectableFields(ev)["involvedObject.name"], "web");
    assert.equal(s.selectableFields(ev).source, "kubelet");
    assert.deepEqual(s.row(ev, NOW), [
      "30s",
      "Normal",
      "Pulled",
      "pod/web",
      "",
      "kubelet, n1",
      "pulled",
      "60m",
      3,
      "web.1",
    ]);
  });
});

describe("unknownFields", () => {
  test("names the misspelt field with its path", () => {
    const body = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "x" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: { spec: { containers: [{ name: "c", image: "i", imagePullPolic: "Always" }] } },
      },
    };
    assert.deepEqual(unknownFields(res("deployments"), body), ["spec.template.spec.containers[0].imagePullPolic"]);
    assert.deepEqual(unknownFields(res("configmaps"), { metadata: {}, data: { any: "x" }, dta: {} }), ["dta"]);
  });
});
