// XSalsa20-Poly1305 at rest (upstream: apiserver/pkg/storage/value/encrypt/secretbox, NaCl's
// secretbox): 24-byte random nonce || secretbox(data). Node's crypto has no XSalsa20, so
// tweetnacl (an audited port of NaCl) seals and opens, in the same format as Go's x/crypto.

import { randomBytes } from "node:crypto";
import nacl from "tweetnacl";
import { TransformError, type Transformer } from "./transformer.js";

export const SECRETBOX_KEY_SIZE = 32;

export function secretboxTransformer(key: Buffer): Transformer {
  if (key.length !== nacl.secretbox.keyLength)
    throw new Error(`expected key size 32 for secretbox provider, got ${key.length}`);
  const k = new Uint8Array(key);
  const nonceLength = nacl.secretbox.nonceLength;
  return {
    toStorage(data) {
      const nonce = randomBytes(nonceLength);
      return Buffer.concat([nonce, nacl.secretbox(data, nonce, k)]);
    },
    fromStorage(stored) {
      if (stored.length < nonceLength + nacl.secretbox.overheadLength)
        throw new TransformError("the stored data was shorter than the required size");
      const out = nacl.secretbox.open(stored.subarray(nonceLength), stored.subarray(0, nonceLength), k);
      // upstream's message for any failure to open (wrong key, tampered value).
      if (!out) throw new TransformError("output array was not large enough for encryption");
      return { data: Buffer.from(out.buffer, out.byteOffset, out.byteLength), stale: false };
    },
  };
}
