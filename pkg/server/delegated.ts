// The secure port of the scheduler and the controller-manager (upstream: their --secure-port,
// built by k8s.io/apiserver's delegated SecureServing + Authentication + Authorization options):
// HTTPS only, every request authenticated (client certificate of --client-ca-file, bearer token
// through TokenReview, else system:anonymous, as upstream's delegated authentication) and then
// authorized as a non-resource request (/healthz, /readyz and /livez always allowed, as
// --authorization-always-allow-paths; system:masters always; everything else through a
// SubjectAccessReview). So /metrics needs a user allowed to `get` the non-resource URL /metrics,
// which the bootstrap ClusterRole system:monitoring grants its group. The answers are upstream's
// Status objects: 401 Unauthorized, 403 `forbidden: User "x" cannot get path "/metrics"`.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Command } from "commander";
import { StatusError } from "../api/errors.js";
import { durationArg, flag, listArg, portArg } from "../runtime/flags.js";
import { type HealthHandlerOptions, healthHandler } from "../runtime/health-server.js";
import type { Logger } from "../runtime/log.js";
import {
  DELEGATED_TOKEN_CACHE_TTL_MS,
  DelegatingAuthenticator,
  type RequestAuthenticator,
  TokenReviewAuthenticator,
  type TokenReviewClient,
} from "./authentication.js";
import {
  DEFAULT_ALWAYS_ALLOW_GROUPS,
  DEFAULT_ALWAYS_ALLOW_PATHS,
  DELEGATED_AUTHORIZED_TTL_MS,
  DELEGATED_UNAUTHORIZED_TTL_MS,
  DelegatingAuthorizer,
  nonResourceAttributes,
  nonResourceForbiddenMessage,
  type RequestAuthorizer,
  SubjectAccessReviewAuthorizer,
  type SubjectAccessReviewClient,
} from "./authorization.js";
import { loadServingCert, SecureServer } from "./serving.js";
import { X509Authenticator } from "./x509.js";

/** The flags every delegated secure port has (upstream's names and defaults). */
export interface DelegatedServingFlags {
  bindAddress: string;
  securePort: number;
  certDir?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  authenticationKubeconfig?: string;
  authorizationKubeconfig?: string;
  authenticationTokenWebhookCacheTtl: number;
  authorizationWebhookCacheAuthorizedTtl: number;
  authorizationWebhookCacheUnauthorizedTtl: number;
  authorizationAlwaysAllowPaths: string[];
}

const ttl = (ms: number, shown: string) => ({ default: ms, defaultDescription: shown, parse: durationArg });

/** addDelegatedServingFlags declares the secure port's flags on a component's command. */
export function addDelegatedServingFlags(cmd: Command, o: { port: number }): Command {
  return cmd
    .addOption(
      flag("--bind-address <ip>", "address of the secure port (/healthz, /readyz, /metrics)", { default: "0.0.0.0" }),
    )
    .addOption(
      flag("--secure-port <port>", "HTTPS port of /healthz, /readyz and /metrics (0 = any free port)", {
        default: o.port,
        parse: portArg,
      }),
    )
    .addOption(
      flag(
        "--cert-dir <dir>",
        "where the self-signed serving certificate is kept when --tls-cert-file is not given (none: made in memory at each start)",
      ),
    )
    .addOption(flag("--tls-cert-file <file>", "PEM serving certificate (default: self-signed)"))
    .addOption(flag("--tls-private-key-file <file>", "PEM private key of --tls-cert-file"))
    .addOption(
      flag("--client-ca-file <file>", "client certificates signed by these CAs authenticate (CN user, O groups)"),
    )
    .addOption(
      flag(
        "--authentication-kubeconfig <path>",
        "kubeconfig of the API server that answers TokenReviews (default: --kubeconfig)",
      ),
    )
    .addOption(
      flag(
        "--authorization-kubeconfig <path>",
        "kubeconfig of the API server that answers SubjectAccessReviews (default: --kubeconfig)",
      ),
    )
    .addOption(
      flag(
        "--authentication-token-webhook-cache-ttl <duration>",
        "how long TokenReview answers are cached",
        ttl(DELEGATED_TOKEN_CACHE_TTL_MS, "10s"),
      ),
    )
    .addOption(
      flag(
        "--authorization-webhook-cache-authorized-ttl <duration>",
        "how long allowed SubjectAccessReview answers are cached",
        ttl(DELEGATED_AUTHORIZED_TTL_MS, "10s"),
      ),
    )
    .addOption(
      flag(
        "--authorization-webhook-cache-unauthorized-ttl <duration>",
        "how long denied SubjectAccessReview answers are cached",
        ttl(DELEGATED_UNAUTHORIZED_TTL_MS, "10s"),
      ),
    )
    .addOption(
      flag("--authorization-always-allow-paths <paths>", "paths no authorization is asked for ('/x*' prefixes)", {
        default: DEFAULT_ALWAYS_ALLOW_PATHS,
        defaultDescription: DEFAULT_ALWAYS_ALLOW_PATHS.join(","),
        parse: listArg,
      }),
    );
}

function send(req: IncomingMessage, res: ServerResponse, err: StatusError): void {
  const body = JSON.stringify(err.toStatus());
  res.writeHead(err.code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Authenticates and authorizes one request; answers it (and returns false) when refused. */
export async function admitNonResourceRequest(
  req: IncomingMessage,
  res: ServerResponse,
  o: { authenticator: RequestAuthenticator; authorizer: RequestAuthorizer; log: Logger },
): Promise<boolean> {
  const authn = await o.authenticator.authenticateRequest({ headers: req.headers, socket: req.socket });
  if (!authn || !("user" in authn)) {
    if (authn) o.log.debug({ err: authn.error }, "unable to authenticate the request");
    send(req, res, new StatusError(401, "Unauthorized", "Unauthorized"));
    return false;
  }
  const path = new URL(req.url ?? "/", "https://component").pathname;
  const attrs = nonResourceAttributes(authn.user, req.method ?? "GET", path);
  const decision = await o.authorizer.authorize(attrs);
  if (decision.decision === "Allow") return true;
  if (decision.error) {
    o.log.warn({ err: decision.error, user: attrs.user.name, path }, "authorization error");
    const msg = `Internal Server Error: ${JSON.stringify(path)}: ${decision.error}`;
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end(msg);
    return false;
  }
  const why = nonResourceForbiddenMessage(attrs);
  send(
    req,
    res,
    new StatusError(403, "Forbidden", `forbidden: ${decision.reason ? `${why}: ${decision.reason}` : why}`),
  );
  return false;
}

/** What delegation asks the API server (an ApiClient is one). */
export type DelegationClient = TokenReviewClient & SubjectAccessReviewClient;

export interface DelegatedServerOptions {
  flags: DelegatedServingFlags;
  /** The component's client; TokenReviews and SubjectAccessReviews go through it unless the flags name other kubeconfigs. */
  client: DelegationClient;
  /** Builds a client from --authentication-kubeconfig / --authorization-kubeconfig (closed with the server). */
  clientFor: (kubeconfig: string) => DelegationClient & { close(): Promise<void> };
  /** File names of the self-signed pair in --cert-dir (upstream: kube-scheduler, kube-controller-manager). */
  pairName: string;
  health: HealthHandlerOptions;
  log: Logger;
}

/** The secure port: /healthz /livez /readyz /metrics behind delegated authentication and authorization. */
export class DelegatedServer {
  readonly #secure: SecureServer;
  readonly #owned: Array<{ close(): Promise<void> }>;

  private constructor(secure: SecureServer, owned: Array<{ close(): Promise<void> }>) {
    this.#secure = secure;
    this.#owned = owned;
  }

  static async create(o: DelegatedServerOptions): Promise<DelegatedServer> {
    const f = o.flags;
    const owned: Array<{ close(): Promise<void> }> = [];
    const clientOf = (path: string | undefined): DelegationClient => {
      if (!path) return o.client;
      const c = o.clientFor(path);
      owned.push(c);
      return c;
    };
    const cert = await loadServingCert({
      certFile: f.tlsCertFile,
      keyFile: f.tlsPrivateKeyFile,
      certDir: f.certDir,
      pairName: o.pairName,
      commonName: `${o.pairName}@${Math.floor(Date.now() / 1000)}`,
      sans: ["localhost", "127.0.0.1", f.bindAddress],
      log: o.log,
    });
    const x509 = f.clientCaFile ? X509Authenticator.fromFile(f.clientCaFile) : undefined;
    const authenticator = new DelegatingAuthenticator(
      [
        x509,
        new TokenReviewAuthenticator(clientOf(f.authenticationKubeconfig), {
          ttlMs: f.authenticationTokenWebhookCacheTtl,
        }),
      ],
      { anonymous: true },
    );
    const authorizer = new DelegatingAuthorizer(
      new SubjectAccessReviewAuthorizer(clientOf(f.authorizationKubeconfig), {
        authorizedTtlMs: f.authorizationWebhookCacheAuthorizedTtl,
        unauthorizedTtlMs: f.authorizationWebhookCacheUnauthorizedTtl,
      }),
      { alwaysAllowPaths: f.authorizationAlwaysAllowPaths, alwaysAllowGroups: DEFAULT_ALWAYS_ALLOW_GROUPS },
    );
    const health = healthHandler(o.health);
    const log = o.log.child({ module: "secure-serving" });
    const secure = new SecureServer({
      cert,
      clientCA: x509?.caPem,
      handler: (req, res) => {
        void (async () => {
          if (!(await admitNonResourceRequest(req, res, { authenticator, authorizer, log }))) return;
          if (health(req, res)) return;
          res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
          res.end("404 page not found\n");
        })().catch((err: unknown) => {
          log.error({ err }, "request failed");
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      },
    });
    return new DelegatedServer(secure, owned);
  }

  listen(port: number, host: string): Promise<number> {
    return this.#secure.listen(port, host);
  }

  async close(): Promise<void> {
    await this.#secure.close();
    await Promise.all(this.#owned.map((c) => c.close()));
  }
}
