// ConfigMaps and Secrets from kubectl's generators, against a real API server (and etcd): the real
// kubectl's `create secret generic --from-file`, `create configmap --from-env-file|--from-file|
// --from-literal`, `create secret tls|docker-registry`, and the kubeling CLI's same commands
// making the same objects with the same output; immutable objects refuse changes with 422.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { StatusError } from "#pkg/api/errors.js";
import { CONFIGMAPS, SECRETS } from "#pkg/api/resources.js";
import type { ConfigMap, Secret } from "#pkg/api/types/index.js";
import { newSelfSigned } from "#pkg/pki/certs.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";

let api: TestApiServer;
let kubectl: Kubectl;
let dir: string;

const kubeling = (args: string[]) => runCli(["--kubeconfig", api.kubeconfigPath, ...args]);
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

before(async () => {
  api = await startApiServer();
  kubectl = kubectlFor(api.kubeconfigPath);
  dir = mkdtempSync(join(tmpdir(), "kubeling-config-objects-"));
  mkdirSync(join(dir, "conf"));
  writeFileSync(join(dir, "conf", "app.properties"), "color=blue\nsize=3\n");
  writeFileSync(join(dir, "conf", "logo.bin"), Buffer.from([0x89, 0x50, 0xff, 0x00]));
  mkdirSync(join(dir, "conf", "nested")); // directories inside are skipped, as kubectl does
  writeFileSync(join(dir, "token.txt"), "s3cr3t-token");
  writeFileSync(join(dir, "app.env"), "# settings\nMODE=production\n  WORKERS=4\nGREETING=hello world\n\nEMPTY=\n");
  const pair = await newSelfSigned({ commonName: "tls.example" });
  writeFileSync(join(dir, "tls.crt"), pair.cert);
  writeFileSync(join(dir, "tls.key"), pair.key);
});

after(async () => {
  kubectl?.close();
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Both CLIs run the same generator with the same sources under two names; both print "<kind>/<name> created". */
async function both(kind: "configmap" | "secret", args: (name: string) => string[], names: [string, string]) {
  const [a, b] = names;
  assert.equal(await kubectl.ok(args(a)), `${kind}/${a} created\n`);
  const r = await kubeling(args(b));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${kind}/${b} created\n`);
}

test("kubectl create secret generic --from-file (a directory and key=path): kubeling's makes the same Secret", async () => {
  await both(
    "secret",
    (n) => [
      "create",
      "secret",
      "generic",
      n,
      `--from-file=${join(dir, "conf")}`,
      `--from-file=token=${join(dir, "token.txt")}`,
    ],
    ["files-kubectl", "files-kubeling"],
  );
  const want = {
    "app.properties": b64("color=blue\nsize=3\n"),
    "logo.bin": b64(Buffer.from([0x89, 0x50, 0xff, 0x00])),
    token: b64("s3cr3t-token"),
  };
  for (const name of ["files-kubectl", "files-kubeling"]) {
    const s = await api.client.get<Secret>(SECRETS, "default", name);
    assert.deepEqual(s.data, want, name);
    assert.equal(s.type, "Opaque", name);
  }
});

test("kubectl create configmap --from-env-file: kubeling's makes the same ConfigMap", async () => {
  await both("configmap", (n) => ["create", "configmap", n, `--from-env-file=${join(dir, "app.env")}`], [
    "env-kubectl",
    "env-kubeling",
  ]);
  for (const name of ["env-kubectl", "env-kubeling"]) {
    const cm = await api.client.get<ConfigMap>(CONFIGMAPS, "default", name);
    assert.deepEqual(cm.data, { EMPTY: "", GREETING: "hello world", MODE: "production", WORKERS: "4" }, name);
  }
});

test("create configmap --from-file (text in data, binary in binaryData) and --from-literal, in another namespace", async () => {
  await kubectl.ok(["create", "namespace", "team"]);
  await both(
    "configmap",
    (n) => ["-n", "team", "create", "cm", n, `--from-file=${join(dir, "conf")}`, "--from-literal=mode=a=b"],
    ["files-kubectl", "files-kubeling"],
  );
  const [a, b] = await Promise.all(
    ["files-kubectl", "files-kubeling"].map((n) => api.client.get<ConfigMap>(CONFIGMAPS, "team", n)),
  );
  assert.deepEqual(a?.data, { "app.properties": "color=blue\nsize=3\n", mode: "a=b" });
  assert.deepEqual(a?.binaryData, { "logo.bin": b64(Buffer.from([0x89, 0x50, 0xff, 0x00])) });
  assert.deepEqual(b?.data, a?.data);
  assert.deepEqual(b?.binaryData, a?.binaryData);
});

test("create secret tls and docker-registry: the same typed Secrets from both CLIs", async () => {
  await both(
    "secret",
    (n) => ["create", "secret", "tls", n, `--cert=${join(dir, "tls.crt")}`, `--key=${join(dir, "tls.key")}`],
    ["tls-kubectl", "tls-kubeling"],
  );
  await both(
    "secret",
    (n) => [
      "create",
      "secret",
      "docker-registry",
      n,
      "--docker-server=registry.example:5000",
      "--docker-username=robot",
      "--docker-password=pa55",
      "--docker-email=robot@example.com",
    ],
    ["reg-kubectl", "reg-kubeling"],
  );
  for (const [x, y, type] of [
    ["tls-kubectl", "tls-kubeling", "kubernetes.io/tls"],
    ["reg-kubectl", "reg-kubeling", "kubernetes.io/dockerconfigjson"],
  ] as const) {
    const [a, b] = await Promise.all([x, y].map((n) => api.client.get<Secret>(SECRETS, "default", n)));
    assert.equal(a?.type, type);
    assert.equal(b?.type, type);
    assert.deepEqual(b?.data, a?.data, `${y} holds what ${x} does`);
  }
  const config = JSON.parse(
    Buffer.from(
      (await api.client.get<Secret>(SECRETS, "default", "reg-kubeling")).data?.[".dockerconfigjson"] ?? "",
      "base64",
    ).toString(),
  ) as { auths: Record<string, { auth: string }> };
  assert.equal(config.auths["registry.example:5000"]?.auth, b64("robot:pa55"));
});

test("--dry-run=server and -o name, --append-hash, and an existing name: the same answers from both CLIs", async () => {
  const args = (extra: string[]) => [
    "create",
    "configmap",
    "env-kubectl",
    `--from-env-file=${join(dir, "app.env")}`,
    ...extra,
  ];
  const dup = await kubectl.run(args([]));
  const ours = await kubeling(args([]));
  assert.equal(dup.code, 1);
  assert.equal(ours.code, 1);
  assert.equal(ours.stderr, dup.stderr);
  assert.match(ours.stderr, /^error: failed to create configmap: configmaps "env-kubectl" already exists\n$/);

  const dry = ["create", "secret", "generic", "dry", "--from-literal=a=b", "--dry-run=server"];
  assert.equal(await kubectl.ok(dry), "secret/dry created (server dry run)\n");
  assert.equal((await kubeling(dry)).stdout, "secret/dry created (server dry run)\n");
  await assert.rejects(api.client.get(SECRETS, "default", "dry"), (e: StatusError) => e.code === 404);

  const hashed = ["create", "secret", "generic", "hashed", "--from-literal=a=b", "--append-hash", "-o", "name"];
  const name = await kubectl.ok(hashed);
  await kubectl.ok(["delete", name.trim()]);
  assert.equal((await kubeling(hashed)).stdout, name);
});

test("immutable ConfigMaps and Secrets refuse data changes with 422, as upstream", async () => {
  await kubectl.ok(["create", "configmap", "frozen", "--from-literal=k=v1"]);
  await kubectl.ok(["patch", "configmap", "frozen", "--type=merge", "-p", '{"immutable":true}']);
  const edit = await kubectl.run(["patch", "configmap", "frozen", "--type=merge", "-p", '{"data":{"k":"v2"}}']);
  assert.equal(edit.code, 1);
  assert.equal(
    edit.stderr,
    'The ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set\n',
  );
  const cm = await api.client.get<ConfigMap>(CONFIGMAPS, "default", "frozen");
  await assert.rejects(
    api.client.update(CONFIGMAPS, "default", { ...cm, immutable: false }),
    (e: StatusError) =>
      e.code === 422 &&
      e.reason === "Invalid" &&
      /immutable: Forbidden: field is immutable when `immutable` is set/.test(e.message),
  );
  // Metadata may still change (labels), as upstream.
  await kubectl.ok(["label", "configmap", "frozen", "tier=gold"]);

  await api.client.create(SECRETS, "default", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "frozen" },
    immutable: true,
    data: { k: b64("v1") },
  } as Secret);
  const s = await kubectl.run(["patch", "secret", "frozen", "--type=merge", "-p", `{"data":{"k":"${b64("v2")}"}}`]);
  assert.equal(s.code, 1);
  assert.equal(
    s.stderr,
    'The Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set\n',
  );
  assert.equal((await api.client.get<Secret>(SECRETS, "default", "frozen")).data?.k, b64("v1"));
});

test("kubeling create configmap --save-config: kubectl apply then finds the last-applied annotation", async () => {
  const r = await kubeling(["create", "configmap", "saved", "--from-literal=mode=a", "--save-config"]);
  assert.equal(r.stdout, "configmap/saved created\n", r.stderr);
  const manifest = JSON.stringify({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "saved" },
    data: { mode: "b" },
  });
  const applied = await kubectl.run(["apply", "-f", "-"], { input: manifest });
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stdout, "configmap/saved configured\n");
  assert.doesNotMatch(applied.stderr, /missing the kubectl.kubernetes.io\/last-applied-configuration annotation/);
  assert.deepEqual((await api.client.get<ConfigMap>(CONFIGMAPS, "default", "saved")).data, { mode: "b" });
});
