// Certificates and keys as kubeadm's pkiutil makes them (cmd/kubeadm/app/phases/certs/pkiutil):
// a self-signed CA (10 years), certificates signed by it (1 year) with a subject (CN = user,
// O = groups, as the API server's x509 authenticator reads them), extended key usages and
// subject alternative names. Built on @peculiar/x509 over Node's WebCrypto; keys are ECDSA P-256
// (kubeadm's ECDSA-P256 encryptionAlgorithm: fast to generate, accepted by Go clients and etcd),
// written as PKCS#8 PEM.

import { createPrivateKey, X509Certificate as NodeX509, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

x509.cryptoProvider.set(webcrypto);

/** A PEM certificate (possibly followed by its chain) and its PEM private key. */
export interface CertKey {
  cert: string;
  key: string;
}

export type ExtKeyUsage = "serverAuth" | "clientAuth";

export interface CertSpec {
  commonName: string;
  /** Subject O attributes: the user's groups for a client certificate. */
  organizations?: readonly string[];
  usages: readonly ExtKeyUsage[];
  /** Subject alternative names; each is a DNS name or an IP address (told apart by isIP). */
  altNames?: readonly string[];
  /** Default CERT_VALIDITY_MS (kubeadm: one year). */
  validityMs?: number;
  /** The clock, for tests of expiry. */
  now?: Date;
}

export const CA_VALIDITY_MS = 10 * 365 * 24 * 3_600_000;
export const CERT_VALIDITY_MS = 365 * 24 * 3_600_000;
/** NotBefore is set this far in the past, as kubeadm's CertificateBackdate, for clocks a little behind. */
export const BACKDATE_MS = 5 * 60_000;

const EC_KEY: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const EC_SIGN: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const EKU_OIDS: Record<ExtKeyUsage, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

/** A positive 128-bit serial, hex (kubeadm: a random serial). */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01; // positive and no leading zero byte
  return b.toString("hex");
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return withNewline(x509.PemConverter.encode(der, "PRIVATE KEY"));
}

/** PEM files end in a newline, so bundles concatenate. */
function withNewline(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

/** importSigningKey reads a PEM private key (EC or RSA, any PEM form Node reads) for signing. */
async function importSigningKey(pem: string): Promise<{ key: CryptoKey; algorithm: Algorithm | EcdsaParams }> {
  const k = createPrivateKey(pem);
  const der = k.export({ format: "der", type: "pkcs8" });
  if (k.asymmetricKeyType === "ec") {
    const curves: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
    const namedCurve = curves[k.asymmetricKeyDetails?.namedCurve ?? ""];
    if (!namedCurve) throw new Error(`unsupported EC curve ${k.asymmetricKeyDetails?.namedCurve ?? "?"}`);
    const key = await webcrypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve }, false, ["sign"]);
    return { key, algorithm: EC_SIGN };
  }
  if (k.asymmetricKeyType === "rsa") {
    const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const key = await webcrypto.subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
    return { key, algorithm };
  }
  throw new Error(`unsupported CA key type ${k.asymmetricKeyType ?? "?"}`);
}

/** Subject: O attributes before CN, the order Go's pkix.Name writes them. */
function subjectOf(spec: Pick<CertSpec, "commonName" | "organizations">): x509.JsonName {
  return [...(spec.organizations ?? []).map((o) => ({ O: [o] })), { CN: [spec.commonName] }];
}

function sanExtension(names: readonly string[]): x509.SubjectAlternativeNameExtension {
  const unique = [...new Set(names.filter((n) => n.length > 0))];
  return new x509.SubjectAlternativeNameExtension(
    unique.map((value) => ({ type: isIP(value) ? ("ip" as const) : ("dns" as const), value })),
  );
}

/** newCA makes a self-signed CA certificate and its key (kubeadm's NewCACertAndKey). */
export async function newCA(commonName: string, o: { validityMs?: number; now?: Date } = {}): Promise<CertKey> {
  const now = o.now ?? new Date();
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subjectOf({ commonName }),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (o.validityMs ?? CA_VALIDITY_MS)),
    signingAlgorithm: EC_SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: withNewline(cert.toString("pem")), key: await keyPem(keys.privateKey) };
}

/** newCert makes a key and a certificate for it signed by the CA (kubeadm's NewCertAndKey). */
export async function newCert(ca: CertKey, spec: CertSpec): Promise<CertKey> {
  const now = spec.now ?? new Date();
  const caCert = new x509.X509Certificate(firstPem(ca.cert));
  const signer = await importSigningKey(ca.key);
  const keys = await newKeyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => EKU_OIDS[u])),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (spec.altNames && spec.altNames.length > 0) extensions.push(sanExtension(spec.altNames));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectOf(spec),
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (spec.validityMs ?? CERT_VALIDITY_MS)),
    signingAlgorithm: signer.algorithm,
    publicKey: keys.publicKey,
    signingKey: signer.key,
    extensions,
  });
  return { cert: withNewline(cert.toString("pem")), key: await keyPem(keys.privateKey) };
}

/**
 * newSelfSigned makes a self-signed serving certificate that is its own CA (basicConstraints cA,
 * so Go clients accept it as the root of its own chain): the API server's fallback when neither
 * --tls-cert-file nor a cluster PKI is given, as kube-apiserver's own self-signed fallback.
 */
export async function newSelfSigned(spec: Omit<CertSpec, "usages" | "organizations">): Promise<CertKey> {
  const now = spec.now ?? new Date();
  const keys = await newKeyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([EKU_OIDS.serverAuth, EKU_OIDS.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (spec.altNames && spec.altNames.length > 0) extensions.push(sanExtension(spec.altNames));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subjectOf(spec),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (spec.validityMs ?? CA_VALIDITY_MS)),
    signingAlgorithm: EC_SIGN,
    keys,
    extensions,
  });
  return { cert: withNewline(cert.toString("pem")), key: await keyPem(keys.privateKey) };
}

/** What a certificate says, read back (for reuse checks, tests and the authenticator). */
export interface CertInfo {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ips: string[];
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  usages: ExtKeyUsage[];
  serialNumber: string;
}

/** The first certificate of a PEM bundle. */
export function firstPem(pem: string): string {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("no PEM certificate found");
  return `${m[0]}\n`;
}

/** subjectFields reads CN and all O values of a parsed certificate. */
export function subjectFields(cert: x509.X509Certificate): { commonName: string; organizations: string[] } {
  return {
    commonName: cert.subjectName.getField("CN")[0] ?? "",
    organizations: cert.subjectName.getField("O"),
  };
}

/** certInfo parses a PEM certificate (the first of a bundle). */
export function certInfo(pem: string): CertInfo {
  const cert = new x509.X509Certificate(firstPem(pem));
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const ekus = new Set(Array.from(eku?.usages ?? [], String));
  const usages = (Object.keys(EKU_OIDS) as ExtKeyUsage[]).filter((u) => ekus.has(EKU_OIDS[u]));
  return {
    ...subjectFields(cert),
    dnsNames: names.filter((n) => n.type === "dns").map((n) => n.value),
    ips: names.filter((n) => n.type === "ip").map((n) => n.value),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCA: cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
    usages,
    serialNumber: cert.serialNumber,
  };
}

/** signedBy: the certificate (first of the bundle) was issued and signed by the CA certificate. */
export function signedBy(certPem: string, caPem: string): boolean {
  const cert = new NodeX509(firstPem(certPem));
  const ca = new NodeX509(firstPem(caPem));
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** keyMatches: the private key belongs to the certificate. */
export function keyMatches(pair: CertKey): boolean {
  try {
    return new NodeX509(firstPem(pair.cert)).checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}
