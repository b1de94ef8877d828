import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EncryptionConfigError, loadEncryptionConfig, parseEncryptionConfig } from "./encryption-config.js";
import type { Transformer } from "./transformer.js";

const KEY1 = Buffer.alloc(32, 1).toString("base64");
const KEY2 = Buffer.alloc(32, 2).toString("base64");
const ctx = Buffer.from("/registry/secrets/default/s");
const plain = Buffer.from('{"kind":"Secret"}');

const config = (resources: string) => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
${resources}`;

const secretsWith = (providers: string) => config(`  - resources: [secrets]\n    providers:\n${providers}`);
const aes = (kind: string, name: string, secret: string) =>
  `      - ${kind}:\n          keys:\n            - name: ${name}\n              secret: ${secret}\n`;

function secrets(text: string): Transformer {
  const t = parseEncryptionConfig(text).transformerFor({ group: "", resource: "secrets" });
  assert.ok(t, "secrets have a transformer");
  return t;
}

for (const [kind, prefix] of [
  ["aescbc", "k8s:enc:aescbc:v1:key1:"],
  ["aesgcm", "k8s:enc:aesgcm:v1:key1:"],
  ["secretbox", "k8s:enc:secretbox:v1:key1:"],
] as const) {
  test(`${kind}: values are written as ${prefix}<ciphertext> and read back`, () => {
    const t = secrets(secretsWith(aes(kind, "key1", KEY1)));
    const stored = t.toStorage(plain, ctx);
    assert.equal(stored.subarray(0, prefix.length).toString(), prefix);
    assert.ok(!stored.includes(plain));
    assert.deepEqual(t.fromStorage(stored, ctx), { data: plain, stale: false });
    // Without identity in the list a plain value is no match, as upstream.
    assert.throws(() => t.fromStorage(plain, ctx), { message: "no matching prefix found" });
  });
}

test("a key name the configuration does not have fails with upstream's message", () => {
  const stored = secrets(secretsWith(aes("aescbc", "key1", KEY1))).toStorage(plain, ctx);
  const other = secrets(secretsWith(aes("aescbc", "key2", KEY2)));
  assert.throws(() => other.fromStorage(stored, ctx), {
    message: "no matching key was found for the provided AES transformer",
  });
  const sb = secrets(secretsWith(aes("secretbox", "key2", KEY2)));
  assert.throws(() => sb.fromStorage(secrets(secretsWith(aes("secretbox", "key1", KEY1))).toStorage(plain, ctx), ctx), {
    message: "no matching key was found for the provided Secretbox transformer",
  });
});

test("identity after a cipher reads values stored before encryption; rotation reads the old key, stale", () => {
  const v1 = secrets(secretsWith(`${aes("aescbc", "key1", KEY1)}      - identity: {}\n`));
  assert.deepEqual(v1.fromStorage(plain, ctx), { data: plain, stale: true });
  const old = v1.toStorage(plain, ctx);
  // Rotation, as upstream documents it: the new key first, the old one after it.
  const rotated = secrets(
    secretsWith(
      `      - aescbc:\n          keys:\n            - name: key2\n              secret: ${KEY2}\n            - name: key1\n              secret: ${KEY1}\n      - identity: {}\n`,
    ),
  );
  assert.deepEqual(rotated.fromStorage(old, ctx), { data: plain, stale: true });
  const fresh = rotated.toStorage(plain, ctx);
  assert.equal(fresh.subarray(0, 23).toString(), "k8s:enc:aescbc:v1:key2:");
  assert.deepEqual(rotated.fromStorage(fresh, ctx), { data: plain, stale: false });
  // The same key name with another secret (a regenerated key) cannot read the old values.
  const gcmOld = secrets(secretsWith(aes("aesgcm", "key1", KEY1))).toStorage(plain, ctx);
  assert.throws(() => secrets(secretsWith(aes("aesgcm", "key1", KEY2))).fromStorage(gcmOld, ctx), {
    message: "cipher: message authentication failed",
  });
  // Providers in two elements sharing a prefix: the second still gets its turn (GCM: the
  // first fails for certain, where CBC's padding check lets one wrong key in 256 through).
  const twoProviders = secrets(secretsWith(`${aes("aesgcm", "key1", KEY2)}${aes("aesgcm", "key1", KEY1)}`));
  assert.deepEqual(twoProviders.fromStorage(gcmOld, ctx), { data: plain, stale: true });
});

test("resources match exactly, then by group ('*.' is core, '*.apps'), then '*.*'; others are not transformed", () => {
  const c = parseEncryptionConfig(
    config(`  - resources: [secrets, deployments.apps]
    providers:
${aes("aescbc", "a", KEY1)}  - resources: ["*.", "*.batch"]
    providers:
${aes("aesgcm", "b", KEY1)}`),
  );
  const prefixOf = (group: string, resource: string) =>
    c.transformerFor({ group, resource })?.toStorage(plain, ctx).subarray(0, 20).toString();
  assert.equal(prefixOf("", "secrets"), "k8s:enc:aescbc:v1:a:");
  assert.equal(prefixOf("apps", "deployments"), "k8s:enc:aescbc:v1:a:");
  assert.equal(prefixOf("", "configmaps"), "k8s:enc:aesgcm:v1:b:");
  assert.equal(prefixOf("batch", "jobs"), "k8s:enc:aesgcm:v1:b:");
  assert.equal(c.transformerFor({ group: "apps", resource: "replicasets" }), undefined);
  const all = parseEncryptionConfig(config(`  - resources: ["*.*"]\n    providers:\n${aes("secretbox", "k", KEY1)}`));
  assert.ok(all.transformerFor({ group: "apps", resource: "replicasets" }));
  const keys = all.keyTransformers("/registry", [
    { group: "", resource: "secrets" },
    { group: "apps", resource: "replicasets" },
  ]);
  assert.ok(keys.forKey("/registry/replicasets/ns/r"));
  assert.equal(keys.forKey("/registry/ranges/serviceips"), undefined, "not a served resource");
});

/** The error message for a configuration, which must be refused. */
function refusal(text: string): string {
  try {
    parseEncryptionConfig(text, "/etc/enc.yaml");
  } catch (err) {
    assert.ok(err instanceof EncryptionConfigError, String(err));
    return err.message;
  }
  assert.fail("the configuration was accepted");
}

test("bad configurations are refused with upstream's field errors", () => {
  const cases: Array<[string, string]> = [
    [
      secretsWith(aes("aescbc", "key1", Buffer.alloc(8).toString("base64"))),
      'error while parsing file: resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 8, expected one of [16 24 32]',
    ],
    [
      secretsWith(aes("secretbox", "key1", Buffer.alloc(16).toString("base64"))),
      'resources[0].providers[0].secretbox.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 16, expected one of [32]',
    ],
    [
      secretsWith(aes("aesgcm", "key1", "not base64!")),
      'resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: "REDACTED": secrets must be base64 encoded',
    ],
    [
      secretsWith(aes("aescbc", '""', KEY1)),
      "resources[0].providers[0].aescbc.keys[0].name: Required value: name is a mandatory field for a key",
    ],
    [
      secretsWith("      - aescbc:\n          keys: []\n"),
      "resources[0].providers[0].aescbc.keys: Required value: at least one keys is required",
    ],
    [
      config("  - resources: [secrets]\n    providers: []\n"),
      "resources[0].providers: Required value: at least one resources[0].providers is required",
    ],
    [
      config(`  - resources: []\n    providers:\n${aes("aescbc", "k", KEY1)}`),
      "resources[0].resources: Required value: at least one resources[0].resources is required",
    ],
    [config("  []\n"), "resources: Required value: at least one resources is required"],
    [
      secretsWith(
        `      - identity: {}\n        aescbc:\n          keys:\n            - name: k\n              secret: ${KEY1}\n`,
      ),
      "more than one provider specified in a single element, should split into different list elements",
    ],
    [secretsWith("      - {}\n"), "provider does not contain any of the expected providers"],
    [
      secretsWith("      - kms:\n          name: vault\n          endpoint: unix:///kms.sock\n"),
      "resources[0].providers[0].kms: Forbidden: kubeling has no KMS provider; use aescbc, aesgcm or secretbox",
    ],
    [
      config(`  - resources: ["*"]\n    providers:\n      - identity: {}\n`),
      `resources[0].resources[0]: Invalid value: "*": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources`,
    ],
    [
      config(`  - resources: [Secrets]\n    providers:\n      - identity: {}\n`),
      'resources[0].resources[0]: Invalid value: "Secrets": resource name should not contain capital letters',
    ],
    [
      config(`  - resources: ["secrets.*"]\n    providers:\n      - identity: {}\n`),
      "encrypting the same resource across groups is not supported",
    ],
    [
      config(`  - resources: [serviceipallocations]\n    providers:\n      - identity: {}\n`),
      "resources which do not have REST API/s cannot be encrypted",
    ],
    [
      config(`  - resources: [secrets, secrets]\n    providers:\n      - identity: {}\n`),
      'resources[0].resources: Invalid value: ["secrets","secrets"]: the same resource cannot be specified multiple times',
    ],
    [
      config(`  - resources: [secrets, "*."]\n    providers:\n      - identity: {}\n`),
      "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked",
    ],
    [
      config(
        `  - resources: ["*."]\n    providers:\n      - identity: {}\n  - resources: [secrets]\n    providers:\n      - identity: {}\n`,
      ),
      'resource "secrets" is masked by earlier rule "*."',
    ],
    [
      secretsWith(`      - aescbcc:\n          keys: []\n`),
      'strict decoding error: unknown field "resources[0].providers[0].aescbcc"',
    ],
    [
      config(`  - resources: [secrets]\n    providers: [identity]\n`),
      'resources[0].providers[0]: expected an object, got "identity"',
    ],
    [
      "apiVersion: apiserver.config.k8s.io/v2\nkind: EncryptionConfiguration\nresources: []\n",
      'no kind "EncryptionConfiguration" is registered for version "apiserver.config.k8s.io/v2"',
    ],
    ["apiVersion: apiserver.config.k8s.io/v1\nresources: []\n", "Object 'Kind' is missing"],
    ["", 'encryption provider configuration file "/etc/enc.yaml" is empty'],
    ["resources: [", "/etc/enc.yaml:"],
  ];
  for (const [text, want] of cases) {
    const got = refusal(text);
    assert.ok(got.startsWith("error while parsing file: "), got);
    assert.ok(got.includes(want), `${JSON.stringify(got)} should include ${JSON.stringify(want)}`);
  }
  // Several errors at once are listed together.
  const many = refusal(
    config(`  - resources: [Secrets]\n    providers:\n${aes("aescbc", "k", Buffer.alloc(3).toString("base64"))}`),
  );
  assert.match(
    many,
    /^error while parsing file: \[resources\[0\]\.resources\[0\]: .*, resources\[0\]\.providers\[0\]\.aescbc\.keys\[0\]\.secret: .*\]$/,
  );
});

test("loadEncryptionConfig reads YAML or JSON files and names a missing one", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeling-enc-"));
  try {
    const json = join(dir, "enc.json");
    writeFileSync(
      json,
      JSON.stringify({
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "EncryptionConfiguration",
        resources: [
          {
            resources: ["secrets"],
            providers: [{ aesgcm: { keys: [{ name: "k", secret: KEY1 }] } }, { identity: {} }],
          },
        ],
      }),
    );
    assert.deepEqual(loadEncryptionConfig(json).resources, ["secrets"]);
    assert.throws(() => loadEncryptionConfig(join(dir, "missing.yaml")), {
      message: new RegExp(`error opening encryption provider configuration file "${dir}/missing.yaml"`),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
