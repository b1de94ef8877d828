import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import nacl from "tweetnacl";
import { secretboxTransformer } from "./secretbox.js";

const ctx = Buffer.from("/registry/secrets/default/s");
const plain = Buffer.from('{"kind":"Secret","data":{"token":"c2VjcmV0"}}');

test("secretbox round-trips: 24-byte random nonce, then NaCl's box (16-byte tag first)", () => {
  const key = randomBytes(32);
  const t = secretboxTransformer(key);
  const a = t.toStorage(plain, ctx);
  assert.equal(a.length, 24 + 16 + plain.length);
  assert.notDeepEqual(a, t.toStorage(plain, ctx));
  assert.ok(!a.includes(Buffer.from("token")));
  assert.deepEqual(t.fromStorage(a, ctx), { data: plain, stale: false });
  // The layout is NaCl's: open it with the library directly.
  const opened = nacl.secretbox.open(a.subarray(24), a.subarray(0, 24), new Uint8Array(key));
  assert.ok(opened);
  assert.deepEqual(Buffer.from(opened), plain);
});

test("secretbox with the wrong key, a tampered or a short value fails with upstream's messages", () => {
  const stored = secretboxTransformer(Buffer.alloc(32, 1)).toStorage(plain, ctx);
  assert.throws(() => secretboxTransformer(Buffer.alloc(32, 2)).fromStorage(stored, ctx), {
    message: "output array was not large enough for encryption",
  });
  const tampered = Buffer.from(stored);
  tampered[30] = (tampered[30] as number) ^ 1;
  assert.throws(() => secretboxTransformer(Buffer.alloc(32, 1)).fromStorage(tampered, ctx), {
    message: "output array was not large enough for encryption",
  });
  assert.throws(() => secretboxTransformer(Buffer.alloc(32, 1)).fromStorage(stored.subarray(0, 39), ctx), {
    message: "the stored data was shorter than the required size",
  });
});

test("secretbox takes 32-byte keys only", () => {
  assert.throws(() => secretboxTransformer(Buffer.alloc(16)), /expected key size 32 for secretbox provider, got 16/);
});
