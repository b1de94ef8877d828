import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { registry } from "#pkg/api/resources.js";
import { applyPatch, applyServerSide, schemaAt, schemaFor } from "./index.js";

function deployment(): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" }, finalizers: ["a"] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1.25",
              ports: [
                { containerPort: 80, protocol: "TCP" },
                { containerPort: 443, protocol: "TCP" },
              ],
              env: [{ name: "A", value: "1" }],
              volumeMounts: [{ name: "data", mountPath: "/data" }],
            },
            { name: "sidecar", image: "busybox:1.36", command: ["sleep", "3600"] },
          ],
          volumes: [{ name: "data", emptyDir: {} }],
          tolerations: [{ key: "a", operator: "Exists" }],
        },
      },
    },
    status: { replicas: 2, conditions: [{ type: "Available", status: "True" }] },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: test helpers poke into untyped specs
type Any = Record<string, any>;
// biome-ignore lint/suspicious/noExplicitAny: elements are indexed freely in assertions
type AnyList = any[];
const spec = (o: KubeObject) => o.spec as Any;
const containers = (o: KubeObject) => spec(o).template.spec.containers as AnyList;

describe("merge patch (RFC 7386)", () => {
  test("kubectl scale / label", () => {
    const orig = deployment();
    const before = structuredClone(orig);
    const out = applyPatch("merge", orig, { spec: { replicas: 5 }, metadata: { labels: { tier: "fe", app: null } } });
    assert.equal(spec(out).replicas, 5);
    assert.deepEqual(out.metadata.labels, { tier: "fe" });
    assert.deepEqual(orig, before, "input not mutated");
  });
  test("lists are replaced", () => {
    const out = applyPatch("merge", deployment(), {
      spec: { template: { spec: { containers: [{ name: "only", image: "x" }] } } },
    });
    assert.deepEqual(containers(out), [{ name: "only", image: "x" }]);
  });
  test("non-object patch is 400", () => {
    assert.throws(
      () => applyPatch("merge", deployment(), [1]),
      (e: unknown) => e instanceof StatusError && e.code === 400,
    );
  });
});

describe("JSON patch (RFC 6902)", () => {
  test("rollout undo style replace of the template", () => {
    const orig = deployment();
    const before = structuredClone(orig);
    const out = applyPatch("json", orig, [
      { op: "test", path: "/spec/replicas", value: 2 },
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "nginx:1.24" },
      { op: "add", path: "/metadata/annotations", value: { x: "y" } },
      { op: "remove", path: "/spec/template/spec/containers/1" },
    ]);
    assert.equal(containers(out)[0].image, "nginx:1.24");
    assert.equal(containers(out).length, 1);
    assert.deepEqual(out.metadata.annotations, { x: "y" });
    assert.deepEqual(orig, before, "input not mutated");
  });
  test("failing test op is 422", () => {
    assert.throws(
      () => applyPatch("json", deployment(), [{ op: "test", path: "/spec/replicas", value: 9 }]),
      (e: unknown) =>
        e instanceof StatusError && e.code === 422 && /testing value \/spec\/replicas failed/.test(e.message),
    );
  });
  test("unresolvable path is 422", () => {
    assert.throws(
      () => applyPatch("json", deployment(), [{ op: "replace", path: "/spec/nope/x", value: 1 }]),
      (e: unknown) => e instanceof StatusError && e.code === 422,
    );
  });
  test("malformed operations are 400", () => {
    for (const bad of [{ op: "x" }, [{ op: "frobnicate", path: "/a" }], [{ op: "add", path: "/a" }], ["str"]]) {
      assert.throws(
        () => applyPatch("json", deployment(), bad),
        (e: unknown) => e instanceof StatusError && e.code === 400,
        JSON.stringify(bad),
      );
    }
  });
});

describe("strategic merge patch", () => {
  test("schema table: merge keys by path", () => {
    const d = schemaFor("apps", "Deployment");
    assert.equal(schemaAt(d, "spec.template.spec.containers")?.mergeKey, "name");
    assert.equal(schemaAt(d, "spec.template.spec.containers.ports")?.mergeKey, "containerPort");
    assert.equal(schemaAt(d, "spec.template.spec.containers.volumeMounts")?.mergeKey, "mountPath");
    assert.equal(schemaAt(d, "spec.template.spec.tolerations"), undefined);
    const cj = schemaFor("batch", "CronJob");
    assert.equal(schemaAt(cj, "spec.jobTemplate.spec.template.spec.initContainers")?.mergeKey, "name");
    assert.equal(schemaAt(schemaFor("", "Service"), "spec.ports")?.mergeKey, "port");
    assert.equal(schemaAt(schemaFor("", "Pod"), "metadata.ownerReferences")?.mergeKey, "uid");
    assert.equal(schemaAt(schemaFor("", "Node"), "status.conditions")?.mergeKey, "type");
  });

  test("kubectl set image: $setElementOrder with one changed container", () => {
    const orig = deployment();
    const before = structuredClone(orig);
    const out = applyPatch("strategic", orig, {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }],
            containers: [{ image: "nginx:1.26", name: "nginx" }],
          },
        },
      },
    });
    const cs = containers(out);
    assert.equal(cs.length, 2);
    assert.equal(cs[0].name, "nginx");
    assert.equal(cs[0].image, "nginx:1.26");
    assert.deepEqual(cs[0].ports, containers(before)[0].ports, "other container fields kept");
    assert.equal(cs[1].image, "busybox:1.36");
    assert.deepEqual(orig, before, "input not mutated");
  });

  test("$setElementOrder reorders", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: { template: { spec: { "$setElementOrder/containers": [{ name: "sidecar" }, { name: "nginx" }] } } },
    });
    assert.deepEqual(
      containers(out).map((c) => c.name),
      ["sidecar", "nginx"],
    );
  });

  test("new list items are appended, directives inside them processed", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: { template: { spec: { containers: [{ name: "third", image: "x", env: [{ name: "B", value: "2" }] }] } } },
    });
    assert.deepEqual(
      containers(out).map((c) => c.name),
      ["nginx", "sidecar", "third"],
    );
  });

  test("switch to Recreate with $retainKeys", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } },
    });
    assert.deepEqual(spec(out).strategy, { type: "Recreate" });
  });

  test("$retainKeys drops fields not listed even without nulls", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } },
    });
    assert.deepEqual(spec(out).strategy, { type: "Recreate" });
  });

  test("$patch: delete on a container port, env: null", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }],
            containers: [
              {
                name: "nginx",
                "$setElementOrder/ports": [{ containerPort: 80 }],
                ports: [{ $patch: "delete", containerPort: 443 }],
                env: null,
              },
            ],
          },
        },
      },
    });
    const c = containers(out)[0];
    assert.deepEqual(c.ports, [{ containerPort: 80, protocol: "TCP" }]);
    assert.equal("env" in c, false);
    assert.equal(containers(out)[1].name, "sidecar");
  });

  test("rollout restart annotation", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: {
        template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-22T00:00:00Z" } } },
      },
    });
    assert.deepEqual(spec(out).template.metadata, {
      labels: { app: "web" },
      annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-22T00:00:00Z" },
    });
  });

  test("client-side apply: removing a container with $patch delete and updating another", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "nginx" }],
            containers: [
              { name: "sidecar", $patch: "delete" },
              { name: "nginx", image: "nginx:2" },
            ],
          },
        },
      },
    });
    assert.deepEqual(
      containers(out).map((c) => [c.name, c.image]),
      [["nginx", "nginx:2"]],
    );
  });

  test("lists without a merge key are replaced atomically (tolerations)", () => {
    const out = applyPatch("strategic", deployment(), {
      spec: { template: { spec: { tolerations: [{ key: "b", operator: "Exists" }] } } },
    });
    assert.deepEqual(spec(out).template.spec.tolerations, [{ key: "b", operator: "Exists" }]);
  });

  test("$patch: replace on a map and on a list", () => {
    const a = applyPatch("strategic", deployment(), { metadata: { labels: { $patch: "replace", x: "y" } } });
    assert.deepEqual(a.metadata.labels, { x: "y" });
    const b = applyPatch("strategic", deployment(), {
      spec: { template: { spec: { containers: [{ $patch: "replace" }, { name: "solo", image: "s" }] } } },
    });
    assert.deepEqual(containers(b), [{ name: "solo", image: "s" }]);
  });

  test("finalizers merge as a set; $deleteFromPrimitiveList", () => {
    const a = applyPatch("strategic", deployment(), { metadata: { finalizers: ["b", "a"] } });
    assert.deepEqual(a.metadata.finalizers, ["a", "b"]);
    const b = applyPatch("strategic", a, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } });
    assert.deepEqual(b.metadata.finalizers, ["b"]);
  });

  test("conditions merge by type (status patch from a controller)", () => {
    const out = applyPatch("strategic", deployment(), {
      status: {
        conditions: [
          { type: "Progressing", status: "True" },
          { type: "Available", status: "False" },
        ],
      },
    });
    assert.deepEqual((out.status as Any).conditions, [
      { type: "Available", status: "False" },
      { type: "Progressing", status: "True" },
    ]);
  });

  test("service ports merge by port", () => {
    const svc: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s" },
      spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] },
    };
    const out = applyPatch("strategic", svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } });
    assert.deepEqual(spec(out).ports, [{ port: 80, targetPort: 9090 }, { port: 443 }]);
  });

  test("a keyed item without its merge key is 400; unknown $patch is 400", () => {
    assert.throws(
      () => applyPatch("strategic", deployment(), { spec: { template: { spec: { containers: [{ image: "x" }] } } } }),
      (e: unknown) => e instanceof StatusError && e.code === 400,
    );
    assert.throws(
      () => applyPatch("strategic", deployment(), { spec: { $patch: "explode" } }),
      (e: unknown) => e instanceof StatusError && e.code === 400,
    );
  });
});

describe("server-side apply", () => {
  const deployments = registry.byGroupResource("apps", "deployments")!;
  const applied = (replicas: number, image = "nginx:1.25", extra: Any = {}): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "nginx", image, ...extra }] },
      },
    },
  });

  test("create: fieldsV1 in upstream notation", () => {
    const out = applyServerSide(undefined, applied(3), { manager: "kubectl", force: false, resource: deployments });
    assert.equal(out.metadata.name, "web");
    assert.equal(spec(out).replicas, 3);
    const mf = out.metadata.managedFields!;
    assert.equal(mf.length, 1);
    assert.equal(mf[0]!.manager, "kubectl");
    assert.equal(mf[0]!.operation, "Apply");
    assert.equal(mf[0]!.fieldsType, "FieldsV1");
    assert.equal(mf[0]!.apiVersion, "apps/v1");
    assert.match(mf[0]!.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(mf[0]!.fieldsV1, {
      "f:metadata": { "f:labels": { "f:app": {} } },
      "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:containers": { 'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} } },
          },
        },
      },
    });
  });

  test("merges into live by key, keeping fields set by others", () => {
    const live = applyServerSide(undefined, applied(3), { manager: "kubectl", force: false, resource: deployments });
    (spec(live).template.spec.containers as AnyList).push({ name: "sidecar", image: "b" });
    live.metadata.uid = "u1";
    live.status = { replicas: 3 };
    const out = applyServerSide(live, applied(3, "nginx:1.26"), {
      manager: "kubectl",
      force: false,
      resource: deployments,
    });
    assert.deepEqual(
      containers(out).map((c) => [c.name, c.image]),
      [
        ["nginx", "nginx:1.26"],
        ["sidecar", "b"],
      ],
    );
    assert.equal(out.metadata.uid, "u1");
    assert.deepEqual(out.status, { replicas: 3 });
    assert.equal(live.metadata.managedFields!.length, 1, "input not mutated");
    assert.equal(spec(live).template.spec.containers[0].image, "nginx:1.25", "input not mutated");
  });

  test("conflict with another manager, then force takes ownership", () => {
    const live = applyServerSide(undefined, applied(3), {
      manager: "other-manager",
      force: false,
      resource: deployments,
    });
    // Same values: shared ownership, no conflict.
    const shared = applyServerSide(live, applied(3), { manager: "kubectl", force: false, resource: deployments });
    assert.equal(shared.metadata.managedFields!.length, 2);
    // Different replicas: conflict.
    try {
      applyServerSide(shared, applied(5), { manager: "kubectl", force: false, resource: deployments });
      assert.fail("expected a conflict");
    } catch (err) {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 409);
      assert.equal(err.reason, "Conflict");
      assert.deepEqual(err.details?.causes, [
        {
          reason: "FieldManagerConflict",
          message: 'conflict with "other-manager": .spec.replicas',
          field: ".spec.replicas",
        },
      ]);
      assert.match(err.message, /^Apply failed with 1 conflict: conflict with "other-manager": \.spec\.replicas/);
    }
    // Container image conflict path uses upstream's list notation.
    assert.throws(
      () => applyServerSide(shared, applied(3, "x"), { manager: "kubectl", force: false, resource: deployments }),
      (e: unknown) =>
        e instanceof StatusError &&
        e.details?.causes?.[0]?.field === '.spec.template.spec.containers[name="nginx"].image',
    );
    const forced = applyServerSide(shared, applied(5), { manager: "kubectl", force: true, resource: deployments });
    assert.equal(spec(forced).replicas, 5);
    const other = forced.metadata.managedFields!.find((e) => e.manager === "other-manager")!;
    assert.equal("f:replicas" in ((other.fieldsV1 as Any)["f:spec"] as Any), false, "ownership moved");
    // Now kubectl owns replicas; other-manager applying a different value conflicts with kubectl.
    assert.throws(
      () => applyServerSide(forced, applied(7), { manager: "other-manager", force: false, resource: deployments }),
      (e: unknown) =>
        e instanceof StatusError && e.details?.causes?.[0]?.message === 'conflict with "kubectl": .spec.replicas',
    );
  });

  test("fields the manager no longer applies are removed unless owned by another", () => {
    const first = applyServerSide(undefined, applied(3, "nginx", { env: [{ name: "A", value: "1" }] }), {
      manager: "kubectl",
      force: false,
      resource: deployments,
    });
    first.metadata.annotations = { keep: "me" }; // set by an untracked update
    const cfg = applied(3);
    delete (cfg.metadata as Any).labels;
    const out = applyServerSide(first, cfg, { manager: "kubectl", force: false, resource: deployments });
    assert.equal("env" in containers(out)[0], false);
    assert.equal(out.metadata.labels, undefined);
    assert.deepEqual(out.metadata.annotations, { keep: "me" });

    // With another manager co-owning the label, it stays.
    const a = applyServerSide(undefined, applied(3), { manager: "kubectl", force: false, resource: deployments });
    const b = applyServerSide(a, applied(3), { manager: "helm", force: false, resource: deployments });
    const c = applyServerSide(b, cfg, { manager: "kubectl", force: false, resource: deployments });
    assert.deepEqual(c.metadata.labels, { app: "web" });
  });

  test("omitting a container removes it", () => {
    const two = applied(1);
    (spec(two).template.spec.containers as AnyList).push({ name: "side", image: "s" });
    const live = applyServerSide(undefined, two, { manager: "kubectl", force: false, resource: deployments });
    assert.equal(containers(live).length, 2);
    const out = applyServerSide(live, applied(1), { manager: "kubectl", force: false, resource: deployments });
    assert.deepEqual(
      containers(out).map((c) => c.name),
      ["nginx"],
    );
  });

  test("apply to the status subresource tracks only status", () => {
    const live = applyServerSide(undefined, applied(1), { manager: "kubectl", force: false, resource: deployments });
    const cfg = { ...applied(9), status: { replicas: 1, conditions: [{ type: "Available", status: "True" }] } };
    const out = applyServerSide(live, cfg, {
      manager: "ctrl",
      force: false,
      resource: deployments,
      subresource: "status",
    });
    assert.equal(spec(out).replicas, 1, "spec untouched through /status");
    assert.deepEqual(out.status, { replicas: 1, conditions: [{ type: "Available", status: "True" }] });
    const entry = out.metadata.managedFields!.find((e) => e.manager === "ctrl")!;
    assert.equal(entry.subresource, "status");
    assert.deepEqual(entry.fieldsV1, {
      "f:status": {
        "f:replicas": {},
        "f:conditions": { 'k:{"type":"Available"}': { ".": {}, "f:type": {}, "f:status": {} } },
      },
    });
    // Status in a main-resource apply is ignored for kinds with a status subresource.
    const main = applyServerSide(out, cfg, { manager: "kubectl", force: false, resource: deployments });
    const mine = main.metadata.managedFields!.find((e) => e.manager === "kubectl")!;
    assert.equal("f:status" in (mine.fieldsV1 as Any), false);
  });

  test("managedFields in the body is 400", () => {
    const cfg = applied(1);
    cfg.metadata.managedFields = [];
    assert.throws(
      () => applyServerSide(undefined, cfg, { manager: "kubectl", force: false, resource: deployments }),
      (e: unknown) => e instanceof StatusError && e.code === 400,
    );
  });
});

describe("strategic merge patch without type metadata on the object", () => {
  test("the resource argument picks the merge keys", () => {
    const orig = deployment();
    delete orig.apiVersion;
    delete orig.kind;
    const out = applyPatch(
      "strategic",
      orig,
      { spec: { template: { spec: { containers: [{ name: "nginx", image: "n:2" }] } } } },
      { group: "apps", kind: "Deployment" },
    );
    assert.equal(containers(out).length, 2);
    assert.equal(containers(out)[0].image, "n:2");
  });
});

describe("server-side apply list-map keys", () => {
  test("service ports are keyed by port and protocol (DNS: 53/UDP and 53/TCP stay apart)", () => {
    const services = registry.byGroupResource("", "services")!;
    const svc = (ports: unknown[]): KubeObject => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "dns", namespace: "kube-system" },
      spec: { ports },
    });
    const out = applyServerSide(
      undefined,
      svc([
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, protocol: "TCP" },
      ]),
      { manager: "kubectl", force: false, resource: services },
    );
    assert.equal(spec(out).ports.length, 2);
    assert.deepEqual(Object.keys((out.metadata.managedFields![0]!.fieldsV1 as Any)["f:spec"]["f:ports"]), [
      'k:{"port":53,"protocol":"UDP"}',
      'k:{"port":53,"protocol":"TCP"}',
    ]);
    // Omitting the protocol means TCP: it updates the TCP item.
    const next = applyServerSide(
      out,
      svc([
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp2", port: 53 },
      ]),
      { manager: "kubectl", force: false, resource: services },
    );
    assert.deepEqual(
      spec(next).ports.map((p: Any) => p.name),
      ["dns", "dns-tcp2"],
    );
  });
});
