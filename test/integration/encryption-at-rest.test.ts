// Encryption at rest on a real etcd, through the API (upstream's test/integration/controlplane/
// transformation is the model): successive API servers on one etcd prefix, as restarts with
// another --encryption-provider-config would be. Secrets are stored as
// k8s:enc:aescbc:v1:key1:<ciphertext> while get, list and watch answer plain objects; a Secret
// stored before encryption was on stays readable; a rotated key reads what the old one wrote,
// and an update rewrites it under the new one; ConfigMaps (not configured) stay plain JSON; a
// bad configuration keeps the server from starting.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Etcd3 } from "etcd3";
import type { KubeObject } from "../../pkg/api/meta.js";
import { CONFIGMAPS, SECRETS } from "../../pkg/api/resources.js";
import type { Secret } from "../../pkg/api/types/index.js";
import { encryptionConfigText } from "../../pkg/pki/encryption.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startEtcd, type TestEtcd } from "../harness/etcd.js";

const prefix = `/kubeling-enc-${process.pid}`;
let etcd: TestEtcd;
let raw: Etcd3;
let pkiDir: string;
let server: TestApiServer | undefined;

const PASSWORD = "correct-horse-battery-staple";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const secret = (name: string, password = PASSWORD): Secret =>
  ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "default" },
    type: "Opaque",
    data: { password: b64(password) },
  }) as Secret;

/** The bytes etcd holds for an object, read around the API server. */
async function stored(resource: string, name: string): Promise<Buffer> {
  const value = await raw.get(`${prefix}/${resource}/default/${name}`).buffer();
  assert.ok(value, `${resource}/${name} is in etcd`);
  return value;
}

function assertEncrypted(value: Buffer, keyName: string): void {
  const want = `k8s:enc:aescbc:v1:${keyName}:`;
  assert.equal(value.subarray(0, want.length).toString(), want);
  assert.ok(!value.includes(Buffer.from(PASSWORD)) && !value.includes(Buffer.from(b64(PASSWORD))), "no plaintext");
  assert.ok(!value.includes(Buffer.from('"kind"')), "no JSON");
}

async function restart(encryptionConfig?: string | false): Promise<TestApiServer> {
  await server?.stop();
  server = undefined;
  server = await startApiServer({
    etcd: etcd.endpoint,
    prefix,
    pkiDir,
    ...(encryptionConfig !== undefined ? { encryptionConfig } : {}),
  });
  return server;
}

before(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.endpoint });
  pkiDir = mkdtempSync(join(tmpdir(), "kubeling-enc-pki-"));
});

after(async () => {
  await server?.stop();
  raw?.close();
  await etcd?.stop();
  rmSync(pkiDir, { recursive: true, force: true });
});

test("without a configuration Secrets are stored as plain JSON", async () => {
  const api = await restart(false);
  await api.client.create(SECRETS, "default", secret("before"));
  const value = await stored("secrets", "before");
  assert.equal((JSON.parse(value.toString()) as Secret).data?.password, b64(PASSWORD));
});

test("with the cluster's configuration Secrets are encrypted in etcd and plain through get, list and watch", async () => {
  const api = await restart(); // the PKI's encryption-config.yaml, as compose and npm run up pass it
  const list0 = await api.client.list(SECRETS, "default");
  const ac = new AbortController();
  const deadline = setTimeout(() => ac.abort(), 30_000);
  const events = api.client.watch(SECRETS, "default", { resourceVersion: list0.metadata.resourceVersion }, ac.signal);
  try {
    await api.client.create(SECRETS, "default", secret("s1"));
    assertEncrypted(await stored("secrets", "s1"), "key1");

    const got = await api.client.get(SECRETS, "default", "s1");
    assert.equal(got.data?.password, b64(PASSWORD));
    const list = await api.client.list(SECRETS, "default");
    const byName = new Map(list.items.map((s) => [s.metadata.name, s]));
    assert.equal(byName.get("s1")?.data?.password, b64(PASSWORD));
    // Written before encryption was configured: still readable (identity is the second provider)...
    assert.equal(byName.get("before")?.data?.password, b64(PASSWORD));
    // ...and still plain until it is next written.
    assert.equal((JSON.parse((await stored("secrets", "before")).toString()) as Secret).metadata.name, "before");
    // From the watch cache (resourceVersion=0) too.
    const cached = await api.client.list(SECRETS, "default", { resourceVersion: "0" });
    assert.ok(cached.items.some((s) => s.metadata.name === "s1" && s.data?.password === b64(PASSWORD)));

    let first: KubeObject | undefined;
    for await (const ev of events) {
      if (ev.type === "ADDED" && ev.object.metadata.name === "s1") {
        first = ev.object;
        break;
      }
    }
    assert.equal((first as Secret | undefined)?.data?.password, b64(PASSWORD), "the watch event is plain");
  } finally {
    clearTimeout(deadline);
    ac.abort();
  }

  // Resources the configuration does not name are stored as they were.
  await api.client.create(CONFIGMAPS, "default", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "default" },
    data: { mode: "plain" },
  });
  const cm = JSON.parse((await stored("configmaps", "settings")).toString()) as { data: Record<string, string> };
  assert.deepEqual(cm.data, { mode: "plain" });
});

test("key rotation: the new key first, the old one second; old values read, updates re-encrypt", async () => {
  // The first key, as pki init wrote it; the rotated file lists a new one before it.
  const current = readFileSync(join(pkiDir, "pki", "encryption-config.yaml"), "utf8");
  const key1 = /name: key1\n\s+secret: (\S+)/.exec(current)?.[1];
  assert.ok(key1, "the cluster's configuration has key1");
  const rotated = join(pkiDir, "rotated.yaml");
  writeFileSync(
    rotated,
    encryptionConfigText([
      { name: "key2", secret: Buffer.alloc(32, 0x5a) },
      { name: "key1", secret: Buffer.from(key1, "base64") },
    ]),
    { mode: 0o600 },
  );
  const api = await restart(rotated);
  const s1 = await api.client.get(SECRETS, "default", "s1");
  assert.equal(s1.data?.password, b64(PASSWORD), "read with key1");
  assertEncrypted(await stored("secrets", "s1"), "key1");
  await api.client.create(SECRETS, "default", secret("s2"));
  assertEncrypted(await stored("secrets", "s2"), "key2");
  // An update that changes nothing still rewrites a value of an old key (upstream's
  // `kubectl get secrets -o json | kubectl replace -f -` migration), and one stored plain.
  await api.client.update(SECRETS, "default", s1);
  assertEncrypted(await stored("secrets", "s1"), "key2");
  await api.client.update(SECRETS, "default", await api.client.get(SECRETS, "default", "before"));
  assertEncrypted(await stored("secrets", "before"), "key2");
  assert.equal((await api.client.get(SECRETS, "default", "before")).data?.password, b64(PASSWORD));
});

test("a bad configuration keeps the API server from starting, naming the field", async () => {
  await server?.stop();
  server = undefined;
  const bad = join(pkiDir, "bad.yaml");
  writeFileSync(bad, encryptionConfigText([{ name: "short", secret: Buffer.alloc(5) }], { identity: false }));
  await assert.rejects(
    startApiServer({ etcd: etcd.endpoint, prefix, pkiDir, encryptionConfig: bad }),
    (err: Error) =>
      /exited \(1\)/.test(err.message) &&
      err.message.includes(
        'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 5, expected one of [16 24 32]',
      ),
  );
});
