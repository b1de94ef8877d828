// Serving certificate. kubectl only sends its bearer token over https (KUBECTL_WIRE 1.1), so
// the API server always serves TLS: with the given cert/key files, or with a self-signed
// certificate generated into --cert-dir on first start and reused on later starts (so that
// kubeconfigs written earlier keep working across restarts).

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { newSelfSigned } from "#pkg/pki/certs.js";
import type { Logger } from "#pkg/runtime/log.js";

export interface ServingCert {
  cert: string;
  key: string;
  /** The PEM clients should trust: the self-signed cert itself, or the given cert file. */
  caPem: string;
}

/** defaultSANs lists the names a kubeling API server answers to, as upstream's defaults do. */
export function defaultSANs(extra: readonly string[] = []): string[] {
  const names = [
    "localhost",
    "127.0.0.1",
    "::1",
    hostname(),
    "apiserver",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    ...extra,
  ];
  return [...new Set(names.filter((n) => n && n !== "0.0.0.0" && n !== "::"))];
}

/**
 * generateSelfSigned makes a self-signed certificate valid for the given DNS names and IPs.
 * It is marked as a CA (basicConstraints cA) so Go clients accept it as the root of its own chain.
 */
export async function generateSelfSigned(sans: readonly string[]): Promise<{ cert: string; key: string }> {
  return newSelfSigned({ commonName: "kubeling-apiserver", altNames: sans });
}

/** loadServingCert reads --tls-cert-file/--tls-private-key-file, or generates/reuses a cert in certDir. */
export async function loadServingCert(o: {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  certDir: string;
  sans?: readonly string[];
  log: Logger;
}): Promise<ServingCert> {
  if (o.certFile && o.keyFile) {
    const cert = readFileSync(o.certFile, "utf8");
    return { cert, key: readFileSync(o.keyFile, "utf8"), caPem: cert };
  }
  const certPath = join(o.certDir, "apiserver.crt");
  const keyPath = join(o.certDir, "apiserver.key");
  if (existsSync(certPath) && existsSync(keyPath)) {
    o.log.info({ certPath }, "reusing self-signed serving certificate");
    const cert = readFileSync(certPath, "utf8");
    return { cert, key: readFileSync(keyPath, "utf8"), caPem: cert };
  }
  mkdirSync(o.certDir, { recursive: true, mode: 0o700 });
  const sans = defaultSANs(o.sans);
  const { cert, key } = await generateSelfSigned(sans);
  // Write-then-rename so a crash never leaves a half-written pair that later starts would reuse.
  writeFileSync(`${keyPath}.tmp`, key, { mode: 0o600 });
  writeFileSync(`${certPath}.tmp`, cert, { mode: 0o644 });
  renameSync(`${keyPath}.tmp`, keyPath);
  renameSync(`${certPath}.tmp`, certPath);
  o.log.info({ certPath, sans }, "generated self-signed serving certificate");
  return { cert, key, caPem: cert };
}
