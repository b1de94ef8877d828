// kubectl 1.27 and 1.28 against /openapi/v2 (apiserver/openapi-v2.ts), as a user runs them: both
// fetch the document (client-go's discovery, in protobuf) before explain, apply and create -f.
// explain prints the fields from it (--output=plaintext-openapiv2; the default output reads v3),
// client-side apply computes its strategic merge patch from its x-kubernetes-patch-* metadata
// ($setElementOrder for containers merged by name, $retainKeys for a Deployment's strategy),
// and a v1 List is validated client-side against its definitions, with upstream's messages.
// The versioned binaries sit beside realpath(/usr/bin/kubectl); each run gets a fresh --cache-dir.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEPLOYMENTS } from "#pkg/api/resources.js";
import type { Deployment } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { collectOutput } from "./cli-helpers.js";

const BIN_DIR = dirname(realpathSync("/usr/bin/kubectl"));
const VERSIONS = ["1.27", "1.28"];
let srv: TestApiServer;
let home: string;
const children = new Set<ChildProcess>();
let runs = 0;

async function kubectl(version: string, args: string[], input = "") {
  // A fresh cache per run: nothing read from an earlier run's discovery or OpenAPI.
  const cache = join(home, `cache-${runs++}`);
  const child = collectOutput(
    spawn(join(BIN_DIR, `kubectl.${version}`), [`--cache-dir=${cache}`, ...args], {
      env: { ...process.env, KUBECONFIG: srv.kubeconfigPath, HOME: home },
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  children.add(child);
  child.stdin?.end(input);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  clearTimeout(timer);
  children.delete(child);
  return { code, stdout: child.out(), stderr: child.err() };
}

async function ok(version: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(version, args, input);
  assert.equal(r.code, 0, `kubectl.${version} ${args.join(" ")} failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

function deployment(name: string, o: { image: string; strategy?: string }): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
${o.strategy ? `  strategy: {type: ${o.strategy}}\n` : ""}  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: a
        image: ${o.image}
      - name: b
        image: ${o.image}
`;
}

/** The JSON body of the PATCH request in kubectl's -v=8 log. */
function patchBody(log: string): Record<string, unknown> {
  const lines = log.split("\n");
  const at = lines.findIndex((l) => /PATCH https:\/\//.test(l));
  assert.ok(at >= 0, `no PATCH in\n${log}`);
  const bodyLine = lines
    .slice(0, at)
    .reverse()
    .find((l) => l.includes("Request Body: "));
  assert.ok(bodyLine, "the PATCH's body is logged before it");
  return JSON.parse(bodyLine.slice(bodyLine.indexOf("Request Body: ") + "Request Body: ".length));
}

before(async () => {
  for (const v of VERSIONS) assert.ok(existsSync(join(BIN_DIR, `kubectl.${v}`)), `kubectl.${v} in ${BIN_DIR}`);
  home = await mkdtemp(join(tmpdir(), "kubeling-kubectl-v2-"));
  srv = await startApiServer();
});

after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await srv?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

for (const v of VERSIONS) {
  describe(`kubectl ${v}`, () => {
    test("explain pods reads /openapi/v2 in protobuf and prints the fields", async () => {
      const log = await kubectl(v, ["explain", "pods", "--output=plaintext-openapiv2", "-v=6"]);
      assert.equal(log.code, 0, log.stderr);
      assert.match(log.stderr, /GET https:\/\/\S+\/openapi\/v2\?timeout=32s 200 OK/);
      assert.match(log.stdout, /^KIND:\s+Pod$/m);
      assert.match(log.stdout, /^VERSION:\s+v1$/m);
      for (const field of [
        "apiVersion\t<string>",
        "kind\t<string>",
        "metadata\t<Object>",
        "spec\t<Object>",
        "status\t<Object>",
      ])
        assert.ok(log.stdout.includes(`   ${field}`), `${field} in\n${log.stdout}`);
      // The default output (OpenAPI v3 in these versions) prints the same fields.
      const v3 = await ok(v, ["explain", "pods"]);
      assert.match(v3, /^\s+spec\t<Object>$/m);
      const containers = await ok(v, ["explain", "pods.spec.containers", "--output=plaintext-openapiv2"]);
      assert.match(containers, /^RESOURCE:\s+containers <\[\]Object>$/m);
      assert.match(containers, /^\s+name\t<string> -required-$/m);
      assert.match(containers, /^\s+ports\t<\[\]Object>$/m);
    });

    test("explain deployment.spec --recursive prints the nested fields", async () => {
      for (const output of ["--output=plaintext-openapiv2", "--output=plaintext"]) {
        const out = await ok(v, ["explain", "deployment.spec", "--recursive", output]);
        assert.match(out, /^KIND:\s+Deployment$/m);
        for (const field of [
          /^\s+replicas\t<integer>/m,
          /^\s+selector\t<Object>/m,
          /^\s+matchLabels\t<map\[string\]string>/m,
          /^\s+maxSurge\t<(string|Object)>/m,
          /^\s+containers\t<\[\]Object>/m,
          /^\s+image\t<string>/m,
          /^\s+containerPort\t<integer>/m,
        ])
          assert.match(out, field, `${output}:\n${out}`);
      }
      const spec = await ok(v, ["explain", "deployment.spec", "--output=plaintext-openapiv2"]);
      assert.match(spec, /^\s+selector\t<Object> -required-$/m);
      assert.match(spec, /^\s+template\t<Object> -required-$/m);
    });

    test("client-side apply, then a changed re-apply: a strategic merge patch from v2's metadata", async () => {
      const name = `web-${v.replace(".", "")}`;
      assert.match(await ok(v, ["apply", "-f", "-"], deployment(name, { image: "busybox:1" })), /created/);
      // Someone else adds a container: a merge by name keeps it, a replaced list would not.
      await ok(v, [
        "patch",
        "deployment",
        name,
        "--type=json",
        "-p",
        '[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"side","image":"busybox:9"}}]',
      ]);
      const re = await kubectl(
        v,
        ["apply", "-f", "-", "-v=8"],
        deployment(name, { image: "busybox:2", strategy: "Recreate" }),
      );
      assert.equal(re.code, 0, re.stderr);
      assert.match(re.stdout, /configured/);
      assert.match(re.stderr, /Content-Type: application\/strategic-merge-patch\+json/);
      const patch = patchBody(re.stderr) as {
        spec: { strategy: unknown; template: { spec: Record<string, unknown> } };
      };
      assert.deepEqual(patch.spec.template.spec["$setElementOrder/containers"], [{ name: "a" }, { name: "b" }]);
      assert.deepEqual(patch.spec.strategy, { $retainKeys: ["type"], type: "Recreate" });
      const d = await srv.client.get<Deployment>(DEPLOYMENTS, "default", name);
      assert.deepEqual(
        d.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`),
        ["a=busybox:2", "b=busybox:2", "side=busybox:9"],
      );
      assert.deepEqual(d.spec?.strategy, { type: "Recreate" }, "rollingUpdate dropped by $retainKeys");
      // Applied again as is: the patch only restates the order of the applied containers (the
      // live list also holds "side"), as upstream's three-way merge does.
      const again = await kubectl(
        v,
        ["apply", "-f", "-", "-v=8"],
        deployment(name, { image: "busybox:2", strategy: "Recreate" }),
      );
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(patchBody(again.stderr), {
        spec: { template: { spec: { "$setElementOrder/containers": [{ name: "a" }, { name: "b" }] } } },
      });
      await ok(v, ["delete", "deployment", name]);
    });

    test("create -f refuses an unknown field (server-side Strict) and a List's unknown field (client-side v2)", async () => {
      const name = `bad-${v.replace(".", "")}`;
      const bad = deployment(name, { image: "busybox:1" }).replace("  replicas: 1\n", "  replicas: 1\n  bogus: 1\n");
      const r = await kubectl(v, ["create", "-f", "-"], bad);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^Error from server \(BadRequest\): error when creating "STDIN": .*unknown field "spec\.bogus"/m,
      );
      const missing = await kubectl(v, ["get", "deployment", name]);
      assert.match(missing.stderr, /NotFound/);
      // A v1 List is not validated by the server's fieldValidation (no patch path for List):
      // kubectl checks each item against its definition, with upstream's message.
      const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: ${name}}
  bogus: 2
`;
      const l = await kubectl(v, ["create", "-f", "-"], list);
      assert.equal(l.code, 1);
      assert.equal(
        l.stderr.trim(),
        'error: error validating "STDIN": error validating data: ValidationError(ConfigMap): unknown field "bogus" in io.k8s.api.core.v1.ConfigMap; if you choose to ignore these errors, turn validation off with --validate=false',
      );
      assert.match((await kubectl(v, ["get", "configmap", name])).stderr, /NotFound/);
      // What the server answers passes the same validation: get -o json | replace -f -.
      const all = await ok(v, ["get", "namespaces,services,serviceaccounts,configmaps,secrets", "-A", "-o", "json"]);
      assert.match(await ok(v, ["replace", "-f", "-"], all), /namespace\/default replaced/);
    });
  });
}
