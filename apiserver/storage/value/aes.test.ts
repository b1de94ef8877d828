import assert from "node:assert/strict";
import { createCipheriv, randomBytes } from "node:crypto";
import { test } from "node:test";
import { cbcTransformer, gcmTransformer } from "./aes.js";
import { TransformError } from "./transformer.js";

const ctx = Buffer.from("/registry/secrets/default/s");
const plain = Buffer.from('{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}');

for (const size of [16, 24, 32]) {
  test(`aescbc round-trips with a ${size * 8}-bit key: random IV, PKCS#7 to whole blocks`, () => {
    const t = cbcTransformer(randomBytes(size));
    const a = t.toStorage(plain, ctx);
    const b = t.toStorage(plain, ctx);
    assert.notDeepEqual(a, b, "a fresh IV each write");
    assert.equal((a.length - 16) % 16, 0);
    assert.equal(a.length, 16 + Math.ceil((plain.length + 1) / 16) * 16);
    assert.ok(!a.includes(Buffer.from("password")));
    assert.deepEqual(t.fromStorage(a, ctx), { data: plain, stale: false });
    // CBC authenticates nothing: the etcd key is not part of the value.
    assert.deepEqual(t.fromStorage(a, Buffer.from("/elsewhere")).data, plain);
    // A whole block of input gets a whole block of padding.
    const block = Buffer.alloc(32, 0x41);
    assert.equal(t.toStorage(block, ctx).length, 16 + 48);
    assert.deepEqual(t.fromStorage(t.toStorage(block, ctx), ctx).data, block);
    assert.deepEqual(t.fromStorage(t.toStorage(Buffer.alloc(0), ctx), ctx).data, Buffer.alloc(0));
  });

  test(`aesgcm round-trips with a ${size * 8}-bit key: 12-byte nonce, tag, the etcd key authenticated`, () => {
    const t = gcmTransformer(randomBytes(size));
    const a = t.toStorage(plain, ctx);
    assert.equal(a.length, 12 + plain.length + 16);
    assert.notDeepEqual(a, t.toStorage(plain, ctx));
    assert.deepEqual(t.fromStorage(a, ctx), { data: plain, stale: false });
    assert.throws(() => t.fromStorage(a, Buffer.from("/registry/secrets/default/other")), {
      message: "cipher: message authentication failed",
    });
    const tampered = Buffer.from(a);
    tampered[20] = (tampered[20] as number) ^ 1;
    assert.throws(() => t.fromStorage(tampered, ctx), TransformError);
  });
}

test("aescbc reads the standard format (IV, then AES-CBC with PKCS#7 padding) as upstream writes it", () => {
  const key = Buffer.alloc(32, 7);
  const iv = Buffer.alloc(16, 9);
  const c = createCipheriv("aes-256-cbc", key, iv); // Node pads with PKCS#7 by default
  const stored = Buffer.concat([iv, c.update(plain), c.final()]);
  assert.deepEqual(cbcTransformer(key).fromStorage(stored, ctx).data, plain);
});

test("aescbc with the wrong key fails on the padding, with upstream's messages", () => {
  const iv = Buffer.alloc(16, 3);
  const c = createCipheriv("aes-256-cbc", Buffer.alloc(32, 1), iv);
  const stored = Buffer.concat([iv, c.update(plain), c.final()]);
  // Fixed key, IV and text: the outcome is fixed too (garbage whose last byte is no valid padding).
  assert.throws(() => cbcTransformer(Buffer.alloc(32, 2)).fromStorage(stored, ctx), {
    message: /^invalid (PKCS7 data \(empty or not padded\)|padding on input)$/,
  });
  const t = cbcTransformer(Buffer.alloc(32, 1));
  assert.throws(() => t.fromStorage(stored.subarray(0, 10), ctx), {
    message: "the stored data was shorter than the required size",
  });
  assert.throws(() => t.fromStorage(stored.subarray(0, stored.length - 1), ctx), {
    message: "the stored data is not a multiple of the block size",
  });
});

test("aesgcm with the wrong key or a truncated value fails", () => {
  const stored = gcmTransformer(Buffer.alloc(32, 1)).toStorage(plain, ctx);
  assert.throws(() => gcmTransformer(Buffer.alloc(32, 2)).fromStorage(stored, ctx), {
    message: "cipher: message authentication failed",
  });
  assert.throws(() => gcmTransformer(Buffer.alloc(32, 1)).fromStorage(stored.subarray(0, 20), ctx), {
    message: "the stored data was shorter than the required size",
  });
});

test("AES refuses key sizes other than 16, 24 and 32 bytes", () => {
  assert.throws(() => cbcTransformer(Buffer.alloc(8)), /invalid key size 8/);
  assert.throws(() => gcmTransformer(Buffer.alloc(33)), /invalid key size 33/);
});
