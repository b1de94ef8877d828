// The keys of ServiceAccount tokens (upstream k8s.io/client-go/util/keyutil and
// pkg/serviceaccount/jwt.go): the signing key of --service-account-signing-key-file, the
// verification keys of --service-account-key-file (each file any number of PEM blocks: public
// keys, private keys, whose public half is taken, or certificates), the signature algorithm a key
// implies (RSA: RS256; ECDSA: ES256/ES384/ES512 by curve) and the key ID every token and JWK
// carries: base64url(SHA-256(the PKIX DER of the public key)), derived so it reveals nothing.

import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

export type SigningAlgorithm = "RS256" | "ES256" | "ES384" | "ES512";

/** A verification key and its ID. */
export interface PublicKey {
  keyID: string;
  key: KeyObject;
  alg: SigningAlgorithm;
}

export interface SigningKey extends PublicKey {
  privateKey: KeyObject;
}

const EC_ALGS: Record<string, SigningAlgorithm> = { prime256v1: "ES256", secp384r1: "ES384", secp521r1: "ES512" };

/** The algorithm a (public or private) key signs with; throws for anything but RSA and the three curves. */
export function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === "rsa") return "RS256";
  if (key.asymmetricKeyType === "ec") {
    const alg = EC_ALGS[key.asymmetricKeyDetails?.namedCurve ?? ""];
    if (alg) return alg;
    throw new Error("unknown private key curve, must be 256, 384, or 521");
  }
  throw new Error(`unknown key type ${key.asymmetricKeyType ?? "?"}, must be RSA or ECDSA`);
}

/** upstream keyIDFromPublicKey. */
export function keyIDOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64url");
}

function publicKey(key: KeyObject): PublicKey {
  return { keyID: keyIDOf(key), key, alg: algorithmOf(key) };
}

/** The PEM blocks of a file's text, each with its type ("PUBLIC KEY", "RSA PRIVATE KEY", ...). */
function pemBlocks(text: string): Array<{ type: string; pem: string }> {
  const out: Array<{ type: string; pem: string }> = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ type: m[1] as string, pem: m[0] });
  return out;
}

/**
 * parsePublicKeys: every RSA or ECDSA key of a PEM text, as upstream keyutil.ParsePublicKeysPEM
 * (which also takes private keys and certificates); throws when there is none.
 */
export function parsePublicKeys(text: string, source = "data"): PublicKey[] {
  const keys: PublicKey[] = [];
  for (const b of pemBlocks(text)) {
    let key: KeyObject;
    try {
      key = b.type === "CERTIFICATE" ? new X509Certificate(b.pem).publicKey : createPublicKey(b.pem);
    } catch {
      continue; // not a key: skipped, as upstream skips blocks it cannot parse
    }
    if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "ec") continue;
    keys.push(publicKey(key));
  }
  if (keys.length === 0) throw new Error(`${source}: data does not contain any valid RSA or ECDSA public keys`);
  return keys;
}

/** readPublicKeys reads a --service-account-key-file. */
export function readPublicKeys(path: string): PublicKey[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`failed to read service account key file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parsePublicKeys(text, `failed to parse service account key file ${path}`);
}

/** parseSigningKey: a PEM private key (RSA or ECDSA, PKCS#1, SEC 1 or PKCS#8). */
export function parseSigningKey(pem: string, source = "data"): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${source}: not a PEM private key (${(err as Error).message})`, { cause: err });
  }
  return { ...publicKey(createPublicKey(privateKey)), privateKey };
}

/** readSigningKey reads --service-account-signing-key-file. */
export function readSigningKey(path: string): SigningKey {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`failed to read service account signing key file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseSigningKey(text, `failed to parse service account signing key file ${path}`);
}

/**
 * upstream StaticPublicKeysGetter: with a key ID, the keys of that ID; without, all of them.
 * Keys given twice (the signing key also in a key file) count once.
 */
export class PublicKeys {
  readonly all: readonly PublicKey[];
  readonly #byID = new Map<string, PublicKey[]>();

  constructor(keys: readonly PublicKey[]) {
    const seen = new Set<string>();
    const all: PublicKey[] = [];
    for (const k of keys) {
      if (seen.has(k.keyID)) continue;
      seen.add(k.keyID);
      all.push(k);
      const list = this.#byID.get(k.keyID) ?? [];
      list.push(k);
      this.#byID.set(k.keyID, list);
    }
    this.all = all;
  }

  get(keyID: string | undefined): readonly PublicKey[] {
    if (!keyID) return this.all;
    return this.#byID.get(keyID) ?? [];
  }
}

/** A public key as a JWK (upstream jwkFromPublicKey): use, kty, kid, crv, alg, then the numbers. */
export function publicJWK(k: PublicKey): Record<string, string> {
  const jwk = k.key.export({ format: "jwk" }) as Record<string, string>;
  if (jwk.kty === "RSA") return { use: "sig", kty: "RSA", kid: k.keyID, alg: k.alg, n: jwk.n ?? "", e: jwk.e ?? "" };
  return {
    use: "sig",
    kty: "EC",
    kid: k.keyID,
    crv: jwk.crv ?? "",
    alg: k.alg,
    x: jwk.x ?? "",
    y: jwk.y ?? "",
  };
}
