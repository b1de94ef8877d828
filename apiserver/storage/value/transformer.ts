// Value transformers: what a stored value goes through on its way to and from etcd (upstream:
// apiserver/pkg/storage/value/transformer.go and encrypt/identity). Encryption at rest is one
// transformer per resource, built from an EncryptionConfiguration (encryption-config.ts): a
// list of providers tried by prefix (`k8s:enc:<provider>:v1:`), each a list of keys tried by
// prefix (`<keyname>:`); the first of each list writes. Synchronous: Node's ciphers are.

/** Every encrypted value starts with this; JSON never does (it starts with "{"). */
export const ENCRYPTED_PREFIX = Buffer.from("k8s:enc:");

export interface Transformer {
  /**
   * Undoes toStorage. `context` is the value's etcd key, authenticated where the cipher can (a
   * value copied to another key does not decrypt). stale: read with other than the writing
   * provider or key, so the next update rewrites it even if nothing changed (key rotation).
   */
  fromStorage(data: Buffer, context: Buffer): { data: Buffer; stale: boolean };
  toStorage(data: Buffer, context: Buffer): Buffer;
}

/** The error of a transformer that could not read a value (the message is upstream's). */
export class TransformError extends Error {}

export function isEncrypted(data: Buffer): boolean {
  return data.length >= ENCRYPTED_PREFIX.length && data.subarray(0, ENCRYPTED_PREFIX.length).equals(ENCRYPTED_PREFIX);
}

/**
 * upstream's identity provider: writes plain, reads plain, and refuses encrypted data, so that
 * a configuration listing identity before a cipher (migrating away from encryption) still
 * hands encrypted values on to the cipher.
 */
export const IDENTITY: Transformer = {
  fromStorage(data) {
    if (isEncrypted(data)) throw new TransformError("identity transformer tried to read encrypted data");
    return { data, stale: false };
  },
  toStorage(data) {
    return data;
  },
};

export interface PrefixTransformer {
  prefix: Buffer;
  transformer: Transformer;
}

/**
 * upstream's NewPrefixTransformers: reads with the first transformer whose prefix the data
 * has (the prefix stripped), writes with the first one (its prefix added). A failure does not
 * stop the search: two providers of one kind share a prefix during a rotation. No match at
 * all is `noMatch`; failures are reported as they were, one, or a list of them.
 */
export class PrefixTransformers implements Transformer {
  constructor(
    private readonly transformers: readonly PrefixTransformer[],
    private readonly noMatch: string,
  ) {
    if (transformers.length === 0) throw new Error("PrefixTransformers needs at least one transformer");
  }

  fromStorage(data: Buffer, context: Buffer): { data: Buffer; stale: boolean } {
    const errors: string[] = [];
    for (let i = 0; i < this.transformers.length; i++) {
      const { prefix, transformer } = this.transformers[i] as PrefixTransformer;
      if (data.length < prefix.length || !data.subarray(0, prefix.length).equals(prefix)) continue;
      try {
        const out = transformer.fromStorage(data.subarray(prefix.length), context);
        return { data: out.data, stale: out.stale || i !== 0 };
      } catch (err) {
        // identity (no prefix) refusing encrypted data is not an error: a later cipher reads it.
        if (prefix.length === 0) continue;
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (errors.length === 1) throw new TransformError(errors[0]);
    if (errors.length > 1) throw new TransformError(`[${errors.join(", ")}]`);
    throw new TransformError(this.noMatch);
  }

  toStorage(data: Buffer, context: Buffer): Buffer {
    const { prefix, transformer } = this.transformers[0] as PrefixTransformer;
    return Buffer.concat([prefix, transformer.toStorage(data, context)]);
  }
}

/**
 * The transformer of each stored resource, found from a key's resource segment
 * (`{prefix}/{resource}/...`). Resources without one are stored as plain JSON, and nothing is
 * looked up at all when no resource is encrypted.
 */
export class KeyTransformers {
  private readonly start: number;

  constructor(
    prefix: string,
    private readonly byResource: ReadonlyMap<string, Transformer>,
  ) {
    this.start = prefix.length + 1;
  }

  get size(): number {
    return this.byResource.size;
  }

  forKey(key: string): Transformer | undefined {
    if (this.byResource.size === 0) return undefined;
    const end = key.indexOf("/", this.start);
    return this.byResource.get(end < 0 ? key.slice(this.start) : key.slice(this.start, end));
  }
}

export const NO_TRANSFORMERS = new KeyTransformers("", new Map());
