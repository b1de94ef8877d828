// Serving certificate. kubectl only sends its bearer token over https (KUBECTL_WIRE 1.1), so
// the API server always serves TLS: with the given cert/key files, or with a self-signed
// certificate generated into --cert-dir on first start and reused on later starts (so that
// kubeconfigs written earlier keep working across restarts).

import { hostname } from "node:os";
import { newSelfSigned } from "#pkg/pki/certs.js";
import type { Logger } from "#pkg/runtime/log.js";
import { loadServingCert as loadPairOrSelfSigned } from "#pkg/server/serving.js";

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

/**
 * loadServingCert reads --tls-cert-file/--tls-private-key-file, or generates/reuses a
 * self-signed apiserver.crt/.key in certDir (pkg/server/serving.ts, shared with the other
 * components' secure ports).
 */
export async function loadServingCert(o: {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  certDir: string;
  sans?: readonly string[];
  log: Logger;
}): Promise<ServingCert> {
  const { cert, key } = await loadPairOrSelfSigned({
    certFile: o.certFile,
    keyFile: o.keyFile,
    certDir: o.certDir,
    pairName: "apiserver",
    commonName: "kubeling-apiserver",
    sans: defaultSANs(o.sans),
    log: o.log,
  });
  return { cert, key, caPem: cert };
}
