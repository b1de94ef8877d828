// The service-account signing key pair, as kubeadm's certs phase makes it ("sa" in
// phases/certs: not a certificate, a bare key pair): pki/sa.key, an RSA 2048 private key the API
// server signs ServiceAccount tokens with (--service-account-signing-key-file), and pki/sa.pub,
// its public key in PKIX PEM, which verifies them (--service-account-key-file). A key that
// exists is kept, as kubeadm keeps it: every token already issued stays valid across restarts; a
// missing or mismatched sa.pub is written again from the key.

import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

function writeAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** The PKIX PEM public key of a PEM private key. */
export function publicKeyPem(privatePem: string): string {
  return createPublicKey(createPrivateKey(privatePem)).export({ type: "spki", format: "pem" }).toString();
}

/**
 * ensureServiceAccountKey keeps keyPath (tightening its mode to 0600) or generates an RSA 2048
 * key there (PKCS#1 PEM, "RSA PRIVATE KEY", as kubeadm's), and makes pubPath its public key.
 * Returns whether a new key was generated.
 */
export function ensureServiceAccountKey(
  keyPath: string,
  pubPath: string,
  report: (line: string) => void = () => undefined,
): boolean {
  let generated = false;
  let key: string;
  if (existsSync(keyPath)) {
    key = readFileSync(keyPath, "utf8");
    try {
      createPrivateKey(key);
    } catch (err) {
      throw new Error(`${keyPath}: not a PEM private key (${(err as Error).message})`, { cause: err });
    }
    chmodSync(keyPath, 0o600);
    report(`[certs] using the existing "sa" key ${keyPath}`);
  } else {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    key = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    writeAtomic(keyPath, key, 0o600);
    generated = true;
    report(`[certs] generated the "sa" key and public key ${keyPath}`);
  }
  const pub = publicKeyPem(key);
  if (!existsSync(pubPath) || readFileSync(pubPath, "utf8") !== pub) writeAtomic(pubPath, pub, 0o644);
  return generated;
}
