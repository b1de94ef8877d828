// Protobuf on the wire against a real API server (and etcd): kubectl 1.33's `create <generator>`
// POSTs protobuf bodies (client-go's typed clients), kubectl 1.31's the same command in JSON; both
// must store the same object. Then Accept: application/vnd.kubernetes.protobuf answers a get, a
// list and a watch in protobuf that decodes to what the JSON answer says.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { wrap } from "#pkg/api/protobuf/codec.js";
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

test("kubectl 1.33 create namespace, clusterrole, clusterrolebinding (cluster-scoped) match 1.31's", {
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
