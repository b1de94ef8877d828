// AES at rest with Node's crypto (upstream: apiserver/pkg/storage/value/encrypt/aes), in
// upstream's stored formats so that a kube-apiserver with the same keys reads the same bytes:
//   aescbc: 16-byte random IV || AES-CBC(data with PKCS#7 padding)
//   aesgcm: 12-byte random nonce || AES-GCM(data) || 16-byte tag, the etcd key as authenticated
//           data (a value moved to another key does not decrypt)

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { TransformError, type Transformer } from "./transformer.js";

/** The key sizes AES takes (AES-128, -192, -256), as upstream's validation lists them. */
export const AES_KEY_SIZES = [16, 24, 32] as const;

const BLOCK = 16;
const GCM_NONCE = 12;
const GCM_TAG = 16;

function algorithm(key: Buffer, mode: "cbc" | "gcm"): string {
  if (!(AES_KEY_SIZES as readonly number[]).includes(key.length))
    throw new Error(`crypto/aes: invalid key size ${key.length}`);
  return `aes-${key.length * 8}-${mode}`;
}

export function cbcTransformer(key: Buffer): Transformer {
  const alg = algorithm(key, "cbc");
  return {
    toStorage(data) {
      const iv = randomBytes(BLOCK);
      const pad = BLOCK - (data.length % BLOCK);
      const padded = Buffer.alloc(data.length + pad, pad);
      data.copy(padded);
      const c = createCipheriv(alg, key, iv).setAutoPadding(false);
      return Buffer.concat([iv, c.update(padded), c.final()]);
    },
    fromStorage(stored) {
      if (stored.length < BLOCK) throw new TransformError("the stored data was shorter than the required size");
      const body = stored.subarray(BLOCK);
      if (body.length % BLOCK !== 0) throw new TransformError("the stored data is not a multiple of the block size");
      const d = createDecipheriv(alg, key, stored.subarray(0, BLOCK)).setAutoPadding(false);
      const out = Buffer.concat([d.update(body), d.final()]);
      // PKCS#7, checked as upstream does (a wrong key almost always fails here).
      const pad = out.length > 0 ? (out[out.length - 1] as number) : 0;
      if (pad === 0 || pad > out.length) throw new TransformError("invalid PKCS7 data (empty or not padded)");
      for (let i = out.length - pad; i < out.length; i++)
        if (out[i] !== pad) throw new TransformError("invalid padding on input");
      return { data: out.subarray(0, out.length - pad), stale: false };
    },
  };
}

export function gcmTransformer(key: Buffer): Transformer {
  const alg = algorithm(key, "gcm") as "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm";
  return {
    toStorage(data, context) {
      const nonce = randomBytes(GCM_NONCE);
      const c = createCipheriv(alg, key, nonce);
      c.setAAD(context);
      const body = Buffer.concat([c.update(data), c.final()]);
      return Buffer.concat([nonce, body, c.getAuthTag()]);
    },
    fromStorage(stored, context) {
      if (stored.length < GCM_NONCE + GCM_TAG)
        throw new TransformError("the stored data was shorter than the required size");
      const d = createDecipheriv(alg, key, stored.subarray(0, GCM_NONCE));
      d.setAAD(context);
      d.setAuthTag(stored.subarray(stored.length - GCM_TAG));
      try {
        const out = Buffer.concat([d.update(stored.subarray(GCM_NONCE, stored.length - GCM_TAG)), d.final()]);
        return { data: out, stale: false };
      } catch {
        // Go's wording for a wrong key, a tampered value or another etcd key.
        throw new TransformError("cipher: message authentication failed");
      }
    },
  };
}
