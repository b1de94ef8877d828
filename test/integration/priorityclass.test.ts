// scheduling.k8s.io/v1 PriorityClass against a real API server and etcd: the system classes the
// server creates at start (and refuses to delete), validation with upstream's messages, the
// Priority admission plugin resolving a pod's class (the global default too), and kubectl 1.31
// (JSON) and 1.33 (protobuf) creating classes and listing them with upstream's columns; the
// kubeling CLI's `create priorityclass` sends what kubectl does, and its `get pc` and
// `describe pc` print what kubectl prints.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { KUBECTL_DIR, type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { closeRawAgents, type RawAnswer, raw } from "../harness/raw-http.js";

const PCS = "/apis/scheduling.k8s.io/v1/priorityclasses";
const PODS = "/api/v1/namespaces/default/pods";
const K31 = `${KUBECTL_DIR}/kubectl.1.31`;
const K33 = `${KUBECTL_DIR}/kubectl.1.33`;
const K27 = `${KUBECTL_DIR}/kubectl.1.27`;

let srv: TestApiServer;
let k31: Kubectl;
let k33: Kubectl;

before(async () => {
  srv = await startApiServer();
  k31 = kubectlFor(srv.kubeconfigPath, { binary: K31 });
  k33 = kubectlFor(srv.kubeconfigPath, { binary: K33 });
});

after(async () => {
  k31?.close();
  k33?.close();
  await closeRawAgents();
  await srv?.stop();
});

const json = { "content-type": "application/json" };
const post = (path: string, body: unknown) => raw(srv, "POST", path, { body: JSON.stringify(body), headers: json });
const put = (path: string, body: unknown) => raw(srv, "PUT", path, { body: JSON.stringify(body), headers: json });
const pc = (name: string, value: number, o: Record<string, unknown> = {}) => ({
  apiVersion: "scheduling.k8s.io/v1",
  kind: "PriorityClass",
  metadata: { name },
  value,
  ...o,
});
const pod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { containers: [{ name: "c", image: "busybox" }], ...spec },
});

function refused(r: RawAnswer, code: number, message: string): void {
  assert.equal(r.status, code, r.text);
  assert.equal(r.json.message, message);
}

const rows = (out: string) =>
  out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));

describe("the system priority classes", () => {
  test("exist from the start with upstream's values, and cannot be deleted", async () => {
    const node = await raw(srv, "GET", `${PCS}/system-node-critical`);
    assert.equal(node.status, 200, node.text);
    assert.equal(node.json.value, 2000001000);
    assert.equal(node.json.preemptionPolicy, "PreemptLowerPriority");
    assert.equal(
      node.json.description,
      "Used for system critical pods that must not be moved from their current node.",
    );
    const cluster = await raw(srv, "GET", `${PCS}/system-cluster-critical`);
    assert.equal(cluster.json.value, 2000000000);
    assert.equal(cluster.json.globalDefault, undefined);
    refused(
      await raw(srv, "DELETE", `${PCS}/system-node-critical`),
      403,
      'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted',
    );
    assert.equal((await raw(srv, "GET", `${PCS}/system-node-critical`)).status, 200);
  });
});

describe("validation", () => {
  test("user values stop at 1e9, system- names are reserved, value and preemptionPolicy are fixed", async () => {
    refused(
      await post(PCS, pc("too-high", 1_000_000_001)),
      422,
      'PriorityClass.scheduling.k8s.io "too-high" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    );
    refused(
      await post(PCS, pc("system-mine", 10)),
      422,
      "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    );
    refused(
      await post(PCS, pc("odd", 10, { preemptionPolicy: "Sometimes" })),
      422,
      'PriorityClass.scheduling.k8s.io "odd" is invalid: preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"',
    );
    const created = await post(PCS, pc("fixed", 100, { description: "d" }));
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.preemptionPolicy, "PreemptLowerPriority");
    assert.equal(created.json.metadata.generation, 1);
    const changed = { ...created.json, value: 101, preemptionPolicy: "Never" };
    refused(
      await put(`${PCS}/fixed`, changed),
      422,
      'PriorityClass.scheduling.k8s.io "fixed" is invalid: [value: Forbidden: may not be changed in an update., preemptionPolicy: Invalid value: "Never": field is immutable]',
    );
    const described = await put(`${PCS}/fixed`, { ...created.json, description: "new words" });
    assert.equal(described.status, 200, described.text);
    assert.equal(described.json.description, "new words");
    assert.equal((await raw(srv, "DELETE", `${PCS}/fixed`)).status, 200);
  });
});

describe("the Priority admission plugin", () => {
  test("a pod's class gives its priority; unknown classes and hand-set priorities are refused", async () => {
    assert.equal((await post(PCS, pc("batch-low", 10, { preemptionPolicy: "Never" }))).status, 201);
    const plain = await post(PODS, pod("plain"));
    assert.equal(plain.status, 201, plain.text);
    assert.equal(plain.json.spec.priority, 0);
    assert.equal(plain.json.spec.preemptionPolicy, "PreemptLowerPriority");
    assert.equal(plain.json.spec.priorityClassName, undefined);
    const low = await post(PODS, pod("low", { priorityClassName: "batch-low" }));
    assert.equal(low.status, 201, low.text);
    assert.equal(low.json.spec.priority, 10);
    assert.equal(low.json.spec.preemptionPolicy, "Never");
    const critical = await post(PODS, pod("critical", { priorityClassName: "system-cluster-critical" }));
    assert.equal(critical.json.spec.priority, 2000000000);
    refused(
      await post(PODS, pod("lost", { priorityClassName: "nope" })),
      403,
      'pods "lost" is forbidden: no PriorityClass with name nope was found',
    );
    refused(
      await post(PODS, pod("sneaky", { priorityClassName: "batch-low", priority: 1000 })),
      403,
      'pods "sneaky" is forbidden: the integer value of priority (1000) must not be provided in pod spec; priority admission controller computed 10 from the given PriorityClass name',
    );
    // An update that leaves priority out keeps it.
    const again = structuredClone(low.json);
    delete again.spec.priority;
    again.metadata.labels = { touched: "yes" };
    const updated = await put(`${PODS}/low`, again);
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.json.spec.priority, 10);
  });

  test("one globalDefault class, which pods without a class get", async () => {
    assert.equal((await post(PCS, pc("house-default", 7, { globalDefault: true }))).status, 201);
    refused(
      await post(PCS, pc("second-default", 8, { globalDefault: true })),
      403,
      'priorityclasses.scheduling.k8s.io "second-default" is forbidden: PriorityClass house-default is already marked as default. Only one default can exist',
    );
    const p = await post(PODS, pod("defaulted"));
    assert.equal(p.status, 201, p.text);
    assert.equal(p.json.spec.priorityClassName, "house-default");
    assert.equal(p.json.spec.priority, 7);
    assert.equal((await raw(srv, "DELETE", `${PCS}/house-default`)).status, 200);
    const after = await post(PODS, pod("undefaulted"));
    assert.equal(after.json.spec.priority, 0);
  });
});

describe("kubectl and the kubeling CLI", () => {
  const have = existsSync(K31) && existsSync(K33);

  test("kubectl 1.31 (JSON) and 1.33 (protobuf) create priorityclass store the same; get pc shows upstream's columns", {
    skip: !have,
  }, async () => {
    assert.equal(
      (await k31.ok(["create", "priorityclass", "high", "--value=1000", "--description=x"])).trim(),
      "priorityclass.scheduling.k8s.io/high created",
    );
    assert.equal(
      (await k33.ok(["create", "priorityclass", "high33", "--value=1000", "--description=x"])).trim(),
      "priorityclass.scheduling.k8s.io/high33 created",
    );
    await k33.ok(["create", "priorityclass", "zero33", "--preemption-policy=Never"]);
    const a = (await raw(srv, "GET", `${PCS}/high`)).json;
    const b = (await raw(srv, "GET", `${PCS}/high33`)).json;
    for (const o of [a, b]) {
      assert.equal(o.value, 1000);
      assert.equal(o.description, "x");
      assert.equal(o.preemptionPolicy, "PreemptLowerPriority");
    }
    const strip = (o: Record<string, unknown>) => ({ ...o, metadata: undefined });
    assert.deepEqual(strip(b), strip(a));
    const zero = (await raw(srv, "GET", `${PCS}/zero33`)).json;
    assert.equal(zero.value, 0);
    assert.equal(zero.preemptionPolicy, "Never");

    for (const k of [k31, k33]) {
      const table = rows(await k.ok(["get", "pc"]));
      assert.deepEqual(table[0], ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]);
      const byName = new Map(table.slice(1).map((r) => [r[0], r]));
      assert.deepEqual(
        byName.get("high")?.filter((_, i) => i !== 3),
        ["high", "1000", "false", "PreemptLowerPriority"],
      );
      assert.deepEqual(
        byName.get("system-node-critical")?.filter((_, i) => i !== 3),
        ["system-node-critical", "2000001000", "false", "PreemptLowerPriority"],
      );
      assert.deepEqual(
        byName.get("zero33")?.filter((_, i) => i !== 3),
        ["zero33", "0", "false", "Never"],
      );
    }
  });

  test("kubectl 1.27 applies and explains a PriorityClass (OpenAPI v2)", { skip: !existsSync(K27) }, async () => {
    const k27 = kubectlFor(srv.kubeconfigPath, { binary: K27 });
    try {
      const yaml = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: applied27\nvalue: 42\n";
      assert.match(
        await k27.ok(["apply", "-f", "-"], { input: yaml }),
        /priorityclass.scheduling.k8s.io\/applied27 created/,
      );
      assert.equal((await raw(srv, "GET", `${PCS}/applied27`)).json.value, 42);
      assert.match(await k27.ok(["explain", "priorityclass.preemptionPolicy"]), /PreemptLowerPriority/);
    } finally {
      k27.close();
    }
  });

  test("kubeling create priorityclass sends what kubectl sends", { skip: !have }, async () => {
    const r = await runCli([
      "--kubeconfig",
      srv.kubeconfigPath,
      "create",
      "priorityclass",
      "high-cli",
      "--value=1000",
      "--description=x",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "priorityclass.scheduling.k8s.io/high-cli created");
    const a = (await raw(srv, "GET", `${PCS}/high`)).json;
    const c = (await raw(srv, "GET", `${PCS}/high-cli`)).json;
    const keep = (o: Record<string, unknown>) => ({ ...o, metadata: undefined });
    assert.deepEqual(keep(c), keep(a));
    // describe and get print what kubectl prints.
    const kubeling = async (args: string[]) => {
      const out = await runCli(["--kubeconfig", srv.kubeconfigPath, ...args]);
      assert.equal(out.code, 0, out.stderr);
      return out.stdout;
    };
    for (const k of [k31, k33]) {
      for (const name of ["high", "zero33", "system-node-critical"])
        assert.equal(await kubeling(["describe", "pc", name]), await k.ok(["describe", "pc", name]), name);
    }
    // Ages tick between the two calls, and their width moves the padding.
    const ageless = (out: string) => out.replace(/\b\d+[smhd]\b/g, "<age>").replace(/ +/g, " ");
    assert.equal(ageless(await kubeling(["get", "pc"])), ageless(await k33.ok(["get", "pc"])));
    const bad = await runCli(["--kubeconfig", srv.kubeconfigPath, "create", "pc", "x", "--value=lots"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid argument "lots" for "--value" flag/);
  });
});
