// Protobuf on the wire against a real API server (and etcd): kubectl 1.33's `create <generator>`
// POSTs protobuf bodies (client-go's typed clients), kubectl 1.31's the same command in JSON; both
// must store the same object. Then Accept: application/vnd.kubernetes.protobuf answers a get, a
// list and a watch in protobuf that decodes to what the JSON answer says.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { decode, decodeWatchEvent, wrap } from "#pkg/api/protobuf/codec.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { KUBECTL_DIR, type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";

const PB = "application/vnd.kubernetes.protobuf";
const K31 = `${KUBECTL_DIR}/kubectl.1.31`;
const K33 = `${KUBECTL_DIR}/kubectl.1.33`;
const have = existsSync(K31) && existsSync(K33);

let api: TestApiServer;
let k31: Kubectl;
let k33: Kubectl;

before(async () => {
  if (!have) return;
  api = await startApiServer();
  k31 = kubectlFor(api.kubeconfigPath, { binary: K31 });
  k33 = kubectlFor(api.kubeconfigPath, { binary: K33 });
  await k31.ok(["create", "namespace", "pb-json"]);
  await k33.ok(["create", "namespace", "pb-proto"]);
});

after(async () => {
  k31?.close();
  k33?.close();
  await closeRawAgents();
  await api?.stop();
});

/** What differs between two creates of the same thing: identity, times, allocations. */
function comparable(obj: Record<string, unknown>, name = ""): Record<string, unknown> {
  const o = structuredClone(obj) as Record<string, Record<string, unknown>>;
  const m = o.metadata as Record<string, unknown>;
  for (const k of ["uid", "resourceVersion", "creationTimestamp", "managedFields", "namespace", "name", "generation"]) {
    delete m[k];
  }
  const spec = o.spec as Record<string, unknown> | undefined;
  if (spec) {
    delete spec.clusterIP;
    delete spec.clusterIPs;
    for (const p of (spec.ports as Record<string, unknown>[] | undefined) ?? []) delete p.nodePort;
  }
  // A Job's selector and template labels carry its uid (controller-uid).
  const text = JSON.stringify(o).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uid>");
  const named = name ? text.replaceAll(`"${name}"`, '"<name>"') : text;
  return JSON.parse(named.replaceAll("pb-json", "<ns>").replaceAll("pb-proto", "<ns>"));
}

interface Generator {
  what: string;
  args: (ns: string) => string[];
  path: (ns: string) => string;
}

const gen = (what: string, args: string[], resourcePath: string, name: string): Generator => ({
  what,
  args: (ns) => ["create", "-n", ns, ...args],
  path: (ns) => `${resourcePath.replace("{ns}", ns)}/${name}`,
});

const GENERATORS: Generator[] = [
  gen(
    "deployment",
    ["deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"],
    "/apis/apps/v1/namespaces/{ns}/deployments",
    "web",
  ),
  gen(
    "deployment --replicas=0",
    ["deployment", "zero", "--image=nginx", "--replicas=0"],
    "/apis/apps/v1/namespaces/{ns}/deployments",
    "zero",
  ),
  gen(
    "configmap",
    ["configmap", "cfg", "--from-literal=a=1", "--from-literal=empty="],
    "/api/v1/namespaces/{ns}/configmaps",
    "cfg",
  ),
  gen(
    "secret generic",
    ["secret", "generic", "s", "--from-literal=password=s3cr3t", "--type=Opaque"],
    "/api/v1/namespaces/{ns}/secrets",
    "s",
  ),
  gen(
    "secret docker-registry",
    ["secret", "docker-registry", "reg", "--docker-server=r.example", "--docker-username=u", "--docker-password=p"],
    "/api/v1/namespaces/{ns}/secrets",
    "reg",
  ),
  gen("service clusterip", ["service", "clusterip", "web", "--tcp=80:8080"], "/api/v1/namespaces/{ns}/services", "web"),
  gen("service nodeport", ["service", "nodeport", "np", "--tcp=81:http"], "/api/v1/namespaces/{ns}/services", "np"),
  gen(
    "job",
    ["job", "pi", "--image=busybox", "--", "sh", "-c", "echo hi"],
    "/apis/batch/v1/namespaces/{ns}/jobs",
    "pi",
  ),
  gen(
    "cronjob",
    ["cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
    "/apis/batch/v1/namespaces/{ns}/cronjobs",
    "tick",
  ),
  gen("serviceaccount", ["serviceaccount", "robot"], "/api/v1/namespaces/{ns}/serviceaccounts", "robot"),
  gen(
    "role",
    ["role", "reader", "--verb=get,list", "--resource=pods,deployments.apps", "--resource-name=x"],
    "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    "reader",
  ),
  gen(
    "rolebinding",
    ["rolebinding", "read", "--role=reader", "--user=jane", "--serviceaccount=pb-json:robot", "--group=devs"],
    "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
    "read",
  ),
  gen(
    "quota",
    ["quota", "q", "--hard=pods=10,requests.cpu=2,count/configmaps=5", "--scopes=NotBestEffort"],
    "/api/v1/namespaces/{ns}/resourcequotas",
    "q",
  ),
  gen(
    "poddisruptionbudget",
    ["poddisruptionbudget", "pdb", "--selector=app=web", "--min-available=50%"],
    "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
    "pdb",
  ),
];

for (const g of GENERATORS) {
  test(`kubectl 1.33 create ${g.what} (protobuf) stores what kubectl 1.31's (JSON) stores`, {
    skip: !have,
  }, async () => {
    await k31.ok(g.args("pb-json"));
    await k33.ok(g.args("pb-proto"));
    const a = await raw(api, "GET", g.path("pb-json"));
    const b = await raw(api, "GET", g.path("pb-proto"));
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    assert.deepEqual(comparable(b.json), comparable(a.json));
  });
}

test("kubectl 1.33 create namespace, clusterrole, clusterrolebinding, priorityclass (cluster-scoped) match 1.31's", {
  skip: !have,
}, async () => {
  const pairs: [string[], string[], string][] = [
    [["namespace", "ns-a"], ["namespace", "ns-b"], "/api/v1/namespaces/"],
    [
      ["clusterrole", "cr-a", "--verb=get", "--resource=nodes"],
      ["clusterrole", "cr-b", "--verb=get", "--resource=nodes"],
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/",
    ],
    [
      ["clusterrolebinding", "crb-a", "--clusterrole=view", "--user=jane"],
      ["clusterrolebinding", "crb-b", "--clusterrole=view", "--user=jane"],
      "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/",
    ],
    [
      ["priorityclass", "pc-a", "--value=1000", "--description=x"],
      ["priorityclass", "pc-b", "--value=1000", "--description=x"],
      "/apis/scheduling.k8s.io/v1/priorityclasses/",
    ],
    [
      ["priorityclass", "pc-zero-a", "--preemption-policy=Never"],
      ["priorityclass", "pc-zero-b", "--preemption-policy=Never"],
      "/apis/scheduling.k8s.io/v1/priorityclasses/",
    ],
  ];
  for (const [a, b, path] of pairs) {
    await k31.ok(["create", ...a]);
    await k33.ok(["create", ...b]);
    const ja = (await raw(api, "GET", `${path}${a[1]}`)).json;
    const jb = (await raw(api, "GET", `${path}${b[1]}`)).json;
    assert.deepEqual(comparable(jb, b[1]), comparable(ja, a[1]), path);
  }
});

test("a protobuf body with an unknown field: fieldValidation Strict refuses it, Warn warns", {
  skip: !have,
}, async () => {
  // ConfigMap{metadata{name "u"}, 99: "x"}
  const body = wrap("v1", "ConfigMap", Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x75, 0x9a, 0x06, 0x01, 0x78]));
  const strict = await raw(api, "POST", "/api/v1/namespaces/pb-proto/configmaps?fieldValidation=Strict", {
    body,
    headers: { "content-type": PB },
  });
  assert.equal(strict.status, 400, strict.text);
  assert.match(strict.json.message, /strict decoding error: unknown field "99"/);
  const warn = await raw(api, "POST", "/api/v1/namespaces/pb-proto/configmaps?fieldValidation=Warn", {
    body,
    headers: { "content-type": PB },
  });
  assert.equal(warn.status, 201, warn.text);
  assert.match(String(warn.headers.warning), /unknown field \\"99\\"/);
});

const ACCEPT_PB = { accept: `${PB},application/json` };

/** The object of a protobuf answer, through the envelope. */
function decoded(bytes: Buffer): Record<string, unknown> {
  const r = decode(bytes);
  assert.ok(r, "a kind with a protobuf definition");
  assert.deepEqual(r.unknown, []);
  return r.object;
}

test("Accept: protobuf gets a protobuf get and list that decode to the JSON answers", { skip: !have }, async () => {
  for (const path of [
    "/apis/apps/v1/namespaces/pb-proto/deployments/web",
    "/api/v1/namespaces/pb-proto/secrets/s",
    "/api/v1/namespaces/pb-proto/services/np",
    "/apis/batch/v1/namespaces/pb-proto/cronjobs/tick",
    "/api/v1/namespaces/pb-proto/configmaps",
    "/apis/apps/v1/namespaces/pb-proto/deployments",
    "/api/v1/namespaces",
  ]) {
    const json = await raw(api, "GET", path);
    const pb = await raw(api, "GET", path, { headers: ACCEPT_PB });
    assert.equal(pb.status, 200, path);
    assert.equal(pb.headers["content-type"], PB, path);
    assert.deepEqual(pb.bytes.subarray(0, 4), Buffer.from("k8s\0", "binary"), path);
    // List items carry no TypeMeta in protobuf (as upstream's): compare without it.
    const expected = structuredClone(json.json);
    for (const item of expected.items ?? []) {
      delete item.apiVersion;
      delete item.kind;
    }
    assert.deepEqual(decoded(pb.bytes), expected, path);
  }
});

test("Accept: protobuf gets Status errors in protobuf; a Table, which has no protobuf form, is JSON or 406", {
  skip: !have,
}, async () => {
  const missing = await raw(api, "GET", "/api/v1/namespaces/pb-proto/configmaps/nope", { headers: ACCEPT_PB });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers["content-type"], PB);
  assert.deepEqual(decoded(missing.bytes), (await raw(api, "GET", "/api/v1/namespaces/pb-proto/configmaps/nope")).json);
  // Tables are JSON only (upstream's too): the JSON Table for a client that also takes it, 406 else.
  const PB_TABLE = `${PB};as=Table;v=v1;g=meta.k8s.io`;
  const table = await raw(api, "GET", "/api/v1/namespaces/pb-proto/configmaps", {
    headers: { accept: `${PB_TABLE},application/json;as=Table;v=v1;g=meta.k8s.io` },
  });
  assert.equal(table.status, 200);
  assert.equal(table.headers["content-type"], "application/json;as=Table;v=v1;g=meta.k8s.io");
  assert.equal(table.json.kind, "Table");
  const only = await raw(api, "GET", "/api/v1/namespaces/pb-proto/configmaps", { headers: { accept: PB_TABLE } });
  assert.equal(only.status, 406, only.text);
  assert.equal(only.json.reason, "NotAcceptable");
  const watch = await raw(api, "GET", "/api/v1/namespaces/pb-proto/configmaps?watch=true&timeoutSeconds=1", {
    headers: { accept: PB_TABLE },
  });
  assert.equal(watch.status, 406, watch.text);
});

test("autoscaling/v1 Scale in protobuf: a get answers it, an update reads it", { skip: !have }, async () => {
  const path = "/apis/apps/v1/namespaces/pb-proto/deployments/web/scale";
  const json = await raw(api, "GET", path);
  const pb = await raw(api, "GET", path, { headers: { accept: PB } });
  assert.equal(pb.status, 200, pb.text);
  assert.equal(pb.headers["content-type"], PB);
  assert.deepEqual(decoded(pb.bytes), json.json);
  // Scale{metadata{name "web", namespace "pb-proto"}, spec{replicas 3}}
  const name = Buffer.from("web");
  const ns = Buffer.from("pb-proto");
  const meta = Buffer.concat([Buffer.from([0x0a, name.length]), name, Buffer.from([0x1a, ns.length]), ns]);
  const body = wrap(
    "autoscaling/v1",
    "Scale",
    Buffer.concat([Buffer.from([0x0a, meta.length]), meta, Buffer.from([0x12, 0x02, 0x08, 0x03])]),
  );
  const put = await raw(api, "PUT", path, { body, headers: { "content-type": PB, accept: PB } });
  assert.equal(put.status, 200, put.text);
  assert.equal((decoded(put.bytes).spec as { replicas: number }).replicas, 3);
  const dep = await raw(api, "GET", "/apis/apps/v1/namespaces/pb-proto/deployments/web");
  assert.equal(dep.json.spec.replicas, 3);
});

test("policy/v1 Eviction as a protobuf body (client-go's drain) evicts the pod", { skip: !have }, async () => {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "evicted", namespace: "pb-proto" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  };
  const created = await raw(api, "POST", "/api/v1/namespaces/pb-proto/pods", {
    body: JSON.stringify(pod),
    headers: { "content-type": "application/json" },
  });
  assert.equal(created.status, 201, created.text);
  // Eviction{metadata{name "evicted", namespace "pb-proto"}, deleteOptions{gracePeriodSeconds 0, preconditions{uid}}}
  const str = (num: number, v: string) =>
    Buffer.concat([Buffer.from([(num << 3) | 2, Buffer.byteLength(v)]), Buffer.from(v)]);
  const msg = (num: number, b: Buffer) => Buffer.concat([Buffer.from([(num << 3) | 2, b.length]), b]);
  const meta = Buffer.concat([str(1, "evicted"), str(3, "pb-proto")]);
  const opts = Buffer.concat([Buffer.from([0x08, 0x00]), msg(2, str(1, created.json.metadata.uid))]);
  const body = wrap("policy/v1", "Eviction", Buffer.concat([msg(1, meta), msg(2, opts)]));
  const ev = await raw(api, "POST", "/api/v1/namespaces/pb-proto/pods/evicted/eviction", {
    body,
    headers: { "content-type": PB, accept: `${PB},application/json` },
  });
  assert.equal(ev.status, 201, ev.text);
  assert.equal(ev.headers["content-type"], PB);
  assert.equal(decoded(ev.bytes).status, "Success");
  assert.equal((await raw(api, "GET", "/api/v1/namespaces/pb-proto/pods/evicted")).status, 404);
});

/** readFrames splits a protobuf watch body into its length-prefixed events. */
function readFrames(buf: Buffer): { type: string; object: Record<string, unknown> }[] {
  const out: { type: string; object: Record<string, unknown> }[] = [];
  let i = 0;
  while (i + 4 <= buf.length) {
    const len = buf.readUInt32BE(i);
    const ev = decodeWatchEvent(buf.subarray(i + 4, i + 4 + len));
    out.push({ type: ev.type, object: decoded(Buffer.from(ev.object)) });
    i += 4 + len;
  }
  assert.equal(i, buf.length, "whole frames");
  return out;
}

test("Accept: protobuf gets a watch as length-prefixed WatchEvent frames", { skip: !have }, async () => {
  const list = await raw(api, "GET", "/api/v1/namespaces/pb-proto/configmaps");
  const rv = list.json.metadata.resourceVersion as string;
  await k31.ok(["create", "-n", "pb-proto", "configmap", "watched", "--from-literal=k=v"]);
  await k31.ok(["label", "-n", "pb-proto", "configmap", "watched", "x=y"]);
  const path = `/api/v1/namespaces/pb-proto/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=2`;
  const [pb, json] = await Promise.all([raw(api, "GET", path, { headers: ACCEPT_PB }), raw(api, "GET", path)]);
  assert.equal(pb.headers["content-type"], `${PB};stream=watch`);
  const frames = readFrames(pb.bytes);
  const lines = json.text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    frames.map((f) => f.type),
    ["ADDED", "MODIFIED"],
  );
  assert.deepEqual(frames, lines);
});

test("kubectl 1.33 reads kubeling's protobuf answers (client-go's own decoder)", { skip: !have }, async () => {
  // `create -o json` prints the object client-go decoded from the 201 protobuf answer.
  const printed = JSON.parse(
    await k33.ok(["create", "-n", "pb-proto", "configmap", "printed", "--from-literal=a=1", "-o", "json"]),
  );
  const stored = (await raw(api, "GET", "/api/v1/namespaces/pb-proto/configmaps/printed")).json;
  assert.deepEqual(printed, stored);
  const dep = JSON.parse(
    await k33.ok(["create", "-n", "pb-proto", "deployment", "printed", "--image=nginx", "-o", "json"]),
  );
  const storedDep = (await raw(api, "GET", "/apis/apps/v1/namespaces/pb-proto/deployments/printed")).json;
  assert.deepEqual(dep, storedDep);
  // auth can-i POSTs a SelfSubjectAccessReview in protobuf and reads the answer.
  assert.equal((await k33.ok(["auth", "can-i", "create", "pods", "-n", "pb-proto"])).trim(), "yes");
});
