// x509 client-certificate authentication, upstream's --client-ca-file
// (k8s.io/apiserver/pkg/authentication/request/x509), for the API server and for every delegated
// server (the kubelet, the scheduler, the controller-manager): a verified client certificate's
// subject CN is the user name and its O attributes the groups; a certificate without a CN
// authenticates nobody. The TLS server asks for a certificate without requiring one
// (requestCert, not rejectUnauthorized), so token and anonymous requests still connect; the
// chain is verified by OpenSSL during the handshake against the client CA bundle (validity, signatures, basic
// constraints and the clientAuth purpose, as Go's Verify with ExtKeyUsageClientAuth), and this
// authenticator reads the verdict off the socket. One answer per connection: the peer
// certificate cannot change on it.

import type { X509Certificate as NodeX509 } from "node:crypto";
import { readFileSync } from "node:fs";
import * as x509 from "@peculiar/x509";
import { subjectFields } from "../pki/certs.js";
import type { AuthRequest, AuthResponse, RequestAuthenticator } from "./authentication.js";

/** What the authenticator needs of a TLS socket (node:tls TLSSocket has it). */
interface PeerSocket {
  authorized?: boolean;
  authorizationError?: Error | string | null;
  getPeerX509Certificate?: () => NodeX509 | undefined;
}

/** Go's crypto/x509 messages for OpenSSL's verify codes, so logs read as upstream's. */
function verifyMessage(code: string): string {
  switch (code) {
    case "CERT_HAS_EXPIRED":
    case "CERT_NOT_YET_VALID":
      return "x509: certificate has expired or is not yet valid";
    case "INVALID_PURPOSE":
      return "x509: certificate specifies an incompatible key usage";
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "CERT_SIGNATURE_FAILURE":
    case "CERT_UNTRUSTED":
      return "x509: certificate signed by unknown authority";
    default:
      return `x509: ${code}`;
  }
}

function colonHex(hex: string | undefined): string {
  return (hex ?? "").toUpperCase().replace(/(..)(?=.)/g, "$1:");
}

/** upstream's certificateIdentifier: "SN=<decimal>, SKID=<hex>, AKID=<hex>". */
function certificateIdentifier(cert: x509.X509Certificate): string {
  const sn = BigInt(`0x${cert.serialNumber || "0"}`).toString(10);
  const skid = cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const akid = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  return `SN=${sn}, SKID=${colonHex(skid)}, AKID=${colonHex(akid)}`;
}

export class X509Authenticator implements RequestAuthenticator {
  /** The PEM bundle the TLS server verifies client certificates against. */
  readonly caPem: string;
  readonly #byConnection = new WeakMap<object, AuthResponse>();

  constructor(caPem: string) {
    if (!/-----BEGIN CERTIFICATE-----/.test(caPem)) throw new Error("client CA bundle holds no PEM certificate");
    this.caPem = caPem;
  }

  static fromFile(path: string): X509Authenticator {
    try {
      return new X509Authenticator(readFileSync(path, "utf8"));
    } catch (err) {
      throw new Error(`--client-ca-file ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  authenticateRequest(req: AuthRequest): AuthResponse {
    const socket = req.socket as PeerSocket | null;
    if (!socket || typeof socket.getPeerX509Certificate !== "function") return undefined;
    if (this.#byConnection.has(socket)) return this.#byConnection.get(socket);
    const answer = this.#authenticate(socket);
    this.#byConnection.set(socket, answer);
    return answer;
  }

  #authenticate(socket: PeerSocket): AuthResponse {
    const peer = socket.getPeerX509Certificate?.();
    if (!peer) return undefined;
    const cert = new x509.X509Certificate(peer.raw);
    if (!socket.authorized) {
      const e = socket.authorizationError;
      const code = typeof e === "string" ? e : ((e as { code?: string } | null)?.code ?? e?.message ?? "unverified");
      return { error: `verifying certificate ${certificateIdentifier(cert)} failed: ${verifyMessage(code)}` };
    }
    const { commonName, organizations } = subjectFields(cert);
    if (!commonName) return undefined;
    return { user: { name: commonName, uid: "", groups: organizations } };
  }
}
