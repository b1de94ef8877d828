// Encryption at rest through the storage layer (MemoryStorage; test/integration/
// encryption-at-rest.test.ts does the same through the API on a real etcd): what is written,
// what reads, watches and updates see, rotation, and the errors of a value that cannot be read.

import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { BUILTIN_RESOURCES } from "#pkg/api/resources.js";
import { encryptionConfigText } from "#pkg/pki/encryption.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { MAX_OBJECT_BYTES, serializeObject } from "./codec.js";
import type { ObjectRef } from "./interfaces.js";
import { MemoryStorage } from "./memory.js";
import { parseEncryptionConfig } from "./value/encryption-config.js";
import { KeyTransformers, type Transformer } from "./value/transformer.js";
import { WatchCache } from "./watch-cache.js";

const SECRETS = { group: "", resource: "secrets" };
const CONFIGMAPS = { group: "", resource: "configmaps" };
const secretRef = (name: string): ObjectRef => ({ r: SECRETS, namespace: "default", name });
const secret = (name: string, password: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: "default" },
  data: { password: Buffer.from(password).toString("base64") },
});

function secretsTransformer(keys: Array<[name: string, fill: number]>, identity = true): Transformer {
  const text = encryptionConfigText(
    keys.map(([name, fill]) => ({ name, secret: Buffer.alloc(32, fill) })),
    { identity },
  );
  return parseEncryptionConfig(text).transformerFor(SECRETS) as Transformer;
}

/** A storage whose configuration the test swaps, as a restart with another file would. */
function storage(): { s: MemoryStorage; configure(t: Transformer | undefined): void } {
  const byResource = new Map<string, Transformer>();
  const s = new MemoryStorage({ transformers: new KeyTransformers("/registry", byResource) });
  return {
    s,
    configure(t) {
      if (t) byResource.set("secrets", t);
      else byResource.delete("secrets");
    },
  };
}

async function rawValue(s: MemoryStorage, key: string): Promise<string> {
  const kv = (await s.rawList(key)).find((e) => e.key === key);
  assert.ok(kv, `${key} is stored`);
  return kv.value;
}

test("secrets are written encrypted and read back plain by get, list and the watch cache; configmaps stay JSON", async () => {
  const { s, configure } = storage();
  configure(secretsTransformer([["key1", 1]]));
  const cache = new WatchCache({ storage: s, resources: BUILTIN_RESOURCES, log: silentLogger });
  await s.create(secretRef("before-cache"), secret("before-cache", "p0"));
  await cache.start();
  try {
    await s.create(secretRef("s"), secret("s", "hunter2"));
    await s.create(
      { r: CONFIGMAPS, namespace: "default", name: "c" },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "c", namespace: "default" },
        data: { k: "visible" },
      },
    );
    const raw = await rawValue(s, "/registry/secrets/default/s");
    assert.ok(raw.startsWith("k8s:enc:aescbc:v1:key1:"), raw.slice(0, 30));
    assert.ok(!raw.includes(Buffer.from("hunter2").toString("base64")) && !raw.includes('"kind"'));
    assert.equal(JSON.parse(await rawValue(s, "/registry/configmaps/default/c")).data.k, "visible");

    const got = await s.get(secretRef("s"));
    assert.deepEqual(got?.obj.data, secret("s", "hunter2").data);
    assert.equal(got?.stale, undefined);
    const page = await s.list({ prefix: s.listPrefix(SECRETS) });
    assert.deepEqual(
      page.items.map((i) => i.obj.metadata.name),
      ["before-cache", "s"],
    );
    await cache.sync();
    // The re-list at start and the events after it both went through the transformer.
    assert.equal(cache.for(SECRETS).get("default", "before-cache")?.obj.metadata.name, "before-cache");
    assert.deepEqual(cache.for(SECRETS).get("default", "s")?.obj.data, secret("s", "hunter2").data);
  } finally {
    cache.stop();
    s.close();
  }
});

test("values stored before encryption stay readable; an unchanged update writes nothing unless the value is stale", async () => {
  const { s, configure } = storage();
  await s.create(secretRef("plain"), secret("plain", "old"));
  configure(secretsTransformer([["key1", 1]]));
  const plain = await s.get(secretRef("plain"));
  assert.equal(plain?.stale, true, "read by identity, not the writing provider");
  // A rewrite with the same content encrypts it (upstream's `kubectl replace` migration).
  const res = await s.guaranteedUpdate(secretRef("plain"), (cur) => structuredClone(cur?.obj as KubeObject));
  assert.equal(res.written, true);
  assert.ok((await rawValue(s, "/registry/secrets/default/plain")).startsWith("k8s:enc:aescbc:v1:key1:"));
  const again = await s.guaranteedUpdate(secretRef("plain"), (cur) => structuredClone(cur?.obj as KubeObject));
  assert.equal(again.written, false, "fresh: a no-op stays a no-op");

  // Rotation: key2 first, key1 after it.
  configure(
    secretsTransformer([
      ["key2", 2],
      ["key1", 1],
    ]),
  );
  assert.equal((await s.get(secretRef("plain")))?.stale, true);
  assert.equal(
    (await s.guaranteedUpdate(secretRef("plain"), (cur) => structuredClone(cur?.obj as KubeObject))).written,
    true,
  );
  assert.ok((await rawValue(s, "/registry/secrets/default/plain")).startsWith("k8s:enc:aescbc:v1:key2:"));
  assert.deepEqual((await s.get(secretRef("plain")))?.obj.data, secret("plain", "old").data);
  s.close();
});

test("a value whose key is gone, or that is encrypted where nothing is configured, is a 500 naming the key", async () => {
  const { s, configure } = storage();
  configure(secretsTransformer([["key1", 1]]));
  await s.create(secretRef("s"), secret("s", "x"));
  configure(secretsTransformer([["key2", 2]]));
  const internal = (message: string) => (err: unknown) =>
    err instanceof StatusError && err.code === 500 && err.reason === "InternalError" && err.message === message;
  const noKey =
    'Internal error occurred: unable to transform key "/registry/secrets/default/s": no matching key was found for the provided AES transformer';
  await assert.rejects(s.get(secretRef("s")), internal(noKey));
  await assert.rejects(s.list({ prefix: s.listPrefix(SECRETS) }), internal(noKey));
  configure(undefined);
  await assert.rejects(
    s.get(secretRef("s")),
    internal(
      'Internal error occurred: unable to transform key "/registry/secrets/default/s": identity transformer tried to read encrypted data',
    ),
  );
  s.close();
});

test("the size limit counts the encrypted value, as etcd does", async () => {
  const { s, configure } = storage();
  configure(secretsTransformer([["key1", 1]]));
  const big = secret("big", "");
  const skeleton = serializeObject(big).length;
  (big.data as Record<string, string>).password = "A".repeat(MAX_OBJECT_BYTES - 10 - skeleton);
  assert.equal(serializeObject(big).length, MAX_OBJECT_BYTES - 10, "fits as plain JSON");
  await assert.rejects(
    s.create(secretRef("big"), big),
    (err) => err instanceof StatusError && err.code === 413 && /secrets "big" is too large/.test(err.message),
  );
  await assert.rejects(
    s.guaranteedUpdate(secretRef("big"), () => big, { allowCreate: true, dryRun: true }),
    (err) => err instanceof StatusError && err.code === 413,
  );
  s.close();
});
