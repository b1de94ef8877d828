// The API server's EncryptionConfiguration, made beside the cluster PKI on first start (kubeadm
// leaves this to the admin; kubeling's clusters encrypt Secrets at rest by default): Secrets
// with AES-CBC under a random 256-bit key named key1, identity after it so that Secrets stored
// before encryption was on stay readable. An existing file is kept as it is (its keys decrypt
// what is stored; a rotation is the admin's edit), only its mode is tightened.

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface EncryptionKey {
  name: string;
  secret: Buffer;
}

/**
 * encryptionConfigText: Secrets under aescbc (or another provider) with the given keys (the first
 * encrypts), then identity unless told otherwise. pki init writes it with one random key; tests
 * rotate with it.
 */
export function encryptionConfigText(
  keys: readonly EncryptionKey[],
  o: { identity?: boolean; provider?: "aescbc" | "aesgcm" | "secretbox" } = {},
): string {
  const keyLines = keys.map(
    (k) => `            - name: ${k.name}\n              secret: ${k.secret.toString("base64")}\n`,
  );
  return `# Encryption at rest for kube-apiserver's --encryption-provider-config. The first provider
# encrypts; every provider is tried to decrypt. Rotate by putting a new key first, restarting the
# API server, rewriting every Secret, then removing the old key.
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - ${o.provider ?? "aescbc"}:
          keys:
${keyLines.join("")}${o.identity === false ? "" : "      - identity: {}\n"}`;
}

/** Writes the configuration at path unless it exists; returns whether it was written. */
export function ensureEncryptionConfig(path: string, report: (line: string) => void = () => undefined): boolean {
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    report(`[encryption] using the existing ${path}`);
    return false;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encryptionConfigText([{ name: "key1", secret: randomBytes(32) }]), { mode: 0o600 });
  renameSync(tmp, path);
  report(`[encryption] wrote ${path} (Secrets encrypted at rest with aescbc, key key1)`);
  return true;
}
