// TLS serving for kubeling's servers (upstream k8s.io/apiserver/pkg/server/options
// SecureServingOptions): the serving certificate is --tls-cert-file/--tls-private-key-file when
// given, else a self-signed one (upstream MaybeDefaultWithSelfSignedCerts), kept in --cert-dir as
// <pair>.crt/<pair>.key and reused on later starts, or held in memory when there is no cert dir.
// With a client CA (--client-ca-file) the server asks for a client certificate without requiring
// one: x509.ts reads OpenSSL's verdict, and token and anonymous requests still connect.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { newSelfSigned } from "../pki/certs.js";
import type { Logger } from "../runtime/log.js";

export interface ServingCert {
  cert: string;
  key: string;
}

export interface ServingCertOptions {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Where a self-signed pair is kept; undefined or "": generated in memory on every start. */
  certDir?: string | undefined;
  /** File names of the self-signed pair (upstream: "apiserver", "kubelet", "kube-scheduler"...). */
  pairName: string;
  /** Subject CN and SANs of the self-signed certificate. */
  commonName: string;
  sans: readonly string[];
  log: Logger;
}

/** loadServingCert: the given files, else the self-signed pair in certDir (made once), else one in memory. */
export async function loadServingCert(o: ServingCertOptions): Promise<ServingCert> {
  if ((o.certFile === undefined) !== (o.keyFile === undefined))
    throw new Error("--tls-cert-file and --tls-private-key-file must be given together");
  if (o.certFile && o.keyFile) return { cert: readFileSync(o.certFile, "utf8"), key: readFileSync(o.keyFile, "utf8") };
  const sans = [...new Set(o.sans.filter((n) => n && n !== "0.0.0.0" && n !== "::"))];
  if (!o.certDir) {
    o.log.info({ sans }, "generated a self-signed serving certificate in memory");
    return newSelfSigned({ commonName: o.commonName, altNames: sans });
  }
  const certPath = join(o.certDir, `${o.pairName}.crt`);
  const keyPath = join(o.certDir, `${o.pairName}.key`);
  if (existsSync(certPath) && existsSync(keyPath)) {
    o.log.info({ certPath }, "reusing self-signed serving certificate");
    return { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
  }
  mkdirSync(o.certDir, { recursive: true, mode: 0o700 });
  const pair = await newSelfSigned({ commonName: o.commonName, altNames: sans });
  // Write-then-rename so a crash never leaves a half-written pair that later starts would reuse.
  writeFileSync(`${keyPath}.tmp`, pair.key, { mode: 0o600 });
  writeFileSync(`${certPath}.tmp`, pair.cert, { mode: 0o644 });
  renameSync(`${keyPath}.tmp`, keyPath);
  renameSync(`${certPath}.tmp`, certPath);
  o.log.info({ certPath, sans }, "generated self-signed serving certificate");
  return pair;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** An HTTPS server with the serving certificate and, when given, the client CA bundle. */
export class SecureServer {
  readonly server: Server;

  constructor(o: {
    cert: ServingCert;
    clientCA?: string | undefined;
    handler: RequestListener;
    upgrade?: UpgradeListener;
  }) {
    this.server = createServer(
      {
        cert: o.cert.cert,
        key: o.cert.key,
        ...(o.clientCA ? { ca: o.clientCA, requestCert: true, rejectUnauthorized: false } : {}),
      },
      o.handler,
    );
    if (o.upgrade) this.server.on("upgrade", o.upgrade);
  }

  /** listen binds host:port (0 = any free port) and returns the port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
