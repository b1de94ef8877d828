import assert from "node:assert/strict";
import { test } from "node:test";
import { IDENTITY, KeyTransformers, PrefixTransformers, TransformError, type Transformer } from "./transformer.js";

const ctx = Buffer.from("/registry/secrets/ns/a");

/** A reversible toy transformer (XOR with one byte) that refuses values not written with its byte. */
function xor(b: number): Transformer {
  const flip = (d: Buffer) => Buffer.from(d.map((x) => x ^ b));
  return {
    toStorage: (d) => Buffer.concat([Buffer.from([b]), flip(d)]),
    fromStorage: (d) => {
      if (d[0] !== b) throw new TransformError(`not xor ${b}`);
      return { data: flip(d.subarray(1)), stale: false };
    },
  };
}

test("identity writes as is, reads plain values and refuses encrypted ones", () => {
  const v = Buffer.from('{"a":1}');
  assert.equal(IDENTITY.toStorage(v, ctx), v);
  assert.deepEqual(IDENTITY.fromStorage(v, ctx), { data: v, stale: false });
  assert.throws(() => IDENTITY.fromStorage(Buffer.from("k8s:enc:aescbc:v1:k:xx"), ctx), {
    message: "identity transformer tried to read encrypted data",
  });
});

test("prefix transformers write with the first and read by prefix; another than the first is stale", () => {
  const t = new PrefixTransformers(
    [
      { prefix: Buffer.from("p1:"), transformer: xor(1) },
      { prefix: Buffer.from("p2:"), transformer: xor(2) },
    ],
    "no matching prefix found",
  );
  const v = Buffer.from("hello");
  const written = t.toStorage(v, ctx);
  assert.ok(written.subarray(0, 3).equals(Buffer.from("p1:")));
  assert.deepEqual(t.fromStorage(written, ctx), { data: v, stale: false });
  const old = Buffer.concat([Buffer.from("p2:"), xor(2).toStorage(v, ctx)]);
  assert.deepEqual(t.fromStorage(old, ctx), { data: v, stale: true });
  assert.throws(() => t.fromStorage(Buffer.from("p3:zz"), ctx), { message: "no matching prefix found" });
});

test("a failure under a matching prefix goes on to the next one with the same prefix (a rotation)", () => {
  const p = Buffer.from("k8s:enc:x:v1:");
  const t = new PrefixTransformers(
    [
      { prefix: p, transformer: xor(5) },
      { prefix: p, transformer: xor(6) },
    ],
    "none",
  );
  const v = Buffer.from("data");
  assert.deepEqual(t.fromStorage(Buffer.concat([p, xor(6).toStorage(v, ctx)]), ctx), { data: v, stale: true });
  // Both fail: both errors are reported, as upstream's aggregate.
  assert.throws(() => t.fromStorage(Buffer.concat([p, xor(7).toStorage(v, ctx)]), ctx), {
    message: "[not xor 5, not xor 6]",
  });
  const one = new PrefixTransformers([{ prefix: p, transformer: xor(5) }], "none");
  assert.throws(() => one.fromStorage(Buffer.concat([p, xor(7).toStorage(v, ctx)]), ctx), { message: "not xor 5" });
});

test("identity listed first (migrating away from encryption) hands encrypted values on to the cipher", () => {
  const p = Buffer.from("k8s:enc:x:v1:");
  const t = new PrefixTransformers(
    [
      { prefix: Buffer.alloc(0), transformer: IDENTITY },
      { prefix: p, transformer: xor(9) },
    ],
    "none",
  );
  const v = Buffer.from("{}");
  assert.deepEqual(t.toStorage(v, ctx), v, "identity writes");
  assert.deepEqual(t.fromStorage(v, ctx), { data: v, stale: false });
  assert.deepEqual(t.fromStorage(Buffer.concat([p, xor(9).toStorage(v, ctx)]), ctx), { data: v, stale: true });
});

test("key transformers find a key's resource segment under the prefix", () => {
  const secret = xor(1);
  const k = new KeyTransformers("/registry", new Map([["secrets", secret]]));
  assert.equal(k.forKey("/registry/secrets/ns/a"), secret);
  assert.equal(k.forKey("/registry/secrets/a"), secret);
  assert.equal(k.forKey("/registry/configmaps/ns/a"), undefined);
  assert.equal(k.forKey("/registry/secretsx/ns/a"), undefined);
  assert.equal(new KeyTransformers("/registry", new Map()).forKey("/registry/secrets/ns/a"), undefined);
});
