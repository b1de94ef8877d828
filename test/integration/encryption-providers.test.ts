// Secrets at rest with each provider and a key rotation done as the docs say, with a real etcd read
// by etcdctl (Debian's etcd-client) and the real kubectl: under aesgcm, aescbc and secretbox the
// bytes etcd holds carry k8s:enc:<provider>:v1:<key>: and no plaintext while kubectl reads the
// decoded Secret; the rotation adds a new first key, restarts the API server, rewrites every
// Secret with `kubectl get secrets -A -o json | kubectl replace -f -`, removes the old key and
// restarts again: every Secret is then readable and stored under the new key.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { Secret } from "#pkg/api/types/index.js";
import { type EncryptionKey, encryptionConfigText } from "#pkg/pki/encryption.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startEtcd, type TestEtcd } from "../harness/etcd.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";

const ETCDCTL = process.env.ETCDCTL_BIN ?? "/usr/bin/etcdctl";
const run = promisify(execFile);

let etcd: TestEtcd;
let pkiDir: string;
let server: TestApiServer | undefined;
let kubectl: Kubectl | undefined;

type Provider = "aesgcm" | "aescbc" | "secretbox";

/** etcdctl get: every key under the prefix with its raw value (-w json carries bytes as base64). */
async function etcdGet(prefix: string): Promise<Map<string, Buffer>> {
  const { stdout } = await run(ETCDCTL, [`--endpoints=${etcd.endpoint}`, "get", "--prefix", prefix, "-w", "json"], {
    env: { ...process.env, ETCDCTL_API: "3" },
  });
  const out = JSON.parse(stdout) as { kvs?: { key: string; value: string }[] };
  return new Map(
    (out.kvs ?? []).map((kv) => [Buffer.from(kv.key, "base64").toString(), Buffer.from(kv.value, "base64")]),
  );
}

/** Restarts the API server on the etcd prefix with this configuration (a fresh kubectl for it). */
async function restart(prefix: string, name: string, config: string): Promise<Kubectl> {
  kubectl?.close();
  await server?.stop();
  server = undefined;
  const path = join(pkiDir, `${name}.yaml`);
  writeFileSync(path, config, { mode: 0o600 });
  server = await startApiServer({ etcd: etcd.endpoint, prefix, pkiDir, encryptionConfig: path });
  kubectl = kubectlFor(server.kubeconfigPath);
  return kubectl;
}

const keyOf = (name: string, bytes: number): EncryptionKey => ({ name, secret: randomBytes(bytes) });

function assertSealed(value: Buffer | undefined, provider: Provider, key: string, plaintext: string, what: string) {
  assert.ok(value, `${what} is in etcd`);
  const want = `k8s:enc:${provider}:v1:${key}:`;
  assert.equal(value.subarray(0, want.length).toString(), want, `${what}: prefix`);
  for (const needle of [plaintext, Buffer.from(plaintext).toString("base64"), '"kind"', '"Secret"'])
    assert.ok(!value.includes(Buffer.from(needle)), `${what}: no ${needle} in the stored bytes`);
}

/** kubectl's view of a Secret's key, decoded. */
async function readWithKubectl(k: Kubectl, ns: string, name: string, key: string): Promise<string> {
  const out = await k.ok(["get", "secret", name, "-n", ns, "-o", `jsonpath={.data.${key}}`]);
  return Buffer.from(out, "base64").toString();
}

before(async () => {
  etcd = await startEtcd();
  pkiDir = mkdtempSync(join(tmpdir(), "kubeling-enc-providers-"));
});

after(async () => {
  kubectl?.close();
  await server?.stop();
  await etcd?.stop();
  rmSync(pkiDir, { recursive: true, force: true });
});

for (const [provider, keyBytes] of [
  ["aesgcm", 32],
  ["aescbc", 32],
  ["secretbox", 32],
] as const) {
  test(`${provider}: etcd holds k8s:enc:${provider}:v1:key1: and no plaintext; kubectl reads the decoded Secret`, async () => {
    const prefix = `/kubeling-enc-${provider}-${process.pid}`;
    const k = await restart(prefix, provider, encryptionConfigText([keyOf("key1", keyBytes)], { provider }));
    const plaintext = `${provider}-plain-password`;
    assert.equal(
      await k.ok(["create", "secret", "generic", "db", `--from-literal=password=${plaintext}`]),
      "secret/db created\n",
    );
    assertSealed(
      (await etcdGet(`${prefix}/secrets/default/db`)).get(`${prefix}/secrets/default/db`),
      provider,
      "key1",
      plaintext,
      "db",
    );
    assert.equal(await readWithKubectl(k, "default", "db", "password"), plaintext);
    // A list answers decoded objects too.
    const list = JSON.parse(await k.ok(["get", "secrets", "-o", "json"])) as { items: Secret[] };
    assert.equal(
      Buffer.from(list.items.find((s) => s.metadata.name === "db")?.data?.password ?? "", "base64").toString(),
      plaintext,
    );
  });
}

test("rotation: new first key, restart, kubectl get secrets -A -o json | kubectl replace -f -, old key removed, restart", async () => {
  const prefix = `/kubeling-enc-rotate-${process.pid}`;
  const key1 = keyOf("key1", 32);
  const key2 = keyOf("key2", 32);
  const secrets = [
    ["default", "alpha"],
    ["default", "beta"],
    ["team", "gamma"],
  ] as const;
  const plain = (ns: string, name: string) => `${ns}-${name}-secret-value`;

  // 1. Secrets written under key1.
  let k = await restart(prefix, "rotate-1", encryptionConfigText([key1]));
  await k.ok(["create", "namespace", "team"]);
  for (const [ns, name] of secrets)
    await k.ok(["create", "secret", "generic", name, "-n", ns, `--from-literal=value=${plain(ns, name)}`]);
  for (const [ns, name] of secrets) {
    const key = `${prefix}/secrets/${ns}/${name}`;
    assertSealed((await etcdGet(key)).get(key), "aescbc", "key1", plain(ns, name), key);
  }

  // 2. key2 first, key1 still there to read: the old values read, new writes use key2.
  k = await restart(prefix, "rotate-2", encryptionConfigText([key2, key1]));
  for (const [ns, name] of secrets) assert.equal(await readWithKubectl(k, ns, name, "value"), plain(ns, name));
  const stillKey1 = await etcdGet(`${prefix}/secrets/`);
  for (const [ns, name] of secrets)
    assertSealed(
      stillKey1.get(`${prefix}/secrets/${ns}/${name}`),
      "aescbc",
      "key1",
      plain(ns, name),
      `${name} before the rewrite`,
    );

  // 3. Rewrite every Secret through the API.
  const all = await k.ok(["get", "secrets", "-A", "-o", "json"]);
  const replaced = await k.ok(["replace", "-f", "-"], { input: all });
  for (const [, name] of secrets) assert.match(replaced, new RegExp(`^secret/${name} replaced$`, "m"));
  const stored = await etcdGet(`${prefix}/secrets/`);
  assert.ok(stored.size >= secrets.length);
  for (const [key, value] of stored)
    assert.ok(value.subarray(0, 23).toString() === "k8s:enc:aescbc:v1:key2:", `${key} under key2`);

  // 4. key1 removed: everything still reads, and is stored under key2.
  k = await restart(prefix, "rotate-3", encryptionConfigText([key2]));
  for (const [ns, name] of secrets) assert.equal(await readWithKubectl(k, ns, name, "value"), plain(ns, name));
  const list = JSON.parse(await k.ok(["get", "secrets", "-A", "-o", "json"])) as { items: Secret[] };
  assert.equal(list.items.length, stored.size, "every Secret in etcd lists");
  const final = await etcdGet(`${prefix}/secrets/`);
  for (const [ns, name] of secrets)
    assertSealed(
      final.get(`${prefix}/secrets/${ns}/${name}`),
      "aescbc",
      "key2",
      plain(ns, name),
      `${name} after rotation`,
    );
});

test("with no configuration, Secrets are stored as plain JSON (identity)", async () => {
  const prefix = `/kubeling-enc-none-${process.pid}`;
  kubectl?.close();
  await server?.stop();
  server = await startApiServer({ etcd: etcd.endpoint, prefix, pkiDir, encryptionConfig: false });
  kubectl = kubectlFor(server.kubeconfigPath);
  await kubectl.ok(["create", "secret", "generic", "open", "--from-literal=password=visible"]);
  const key = `${prefix}/secrets/default/open`;
  const value = (await etcdGet(key)).get(key);
  assert.equal(
    (JSON.parse(value?.toString() ?? "{}") as Secret).data?.password,
    Buffer.from("visible").toString("base64"),
  );
});
