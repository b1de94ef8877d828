// kubeling-apiserver, in the shape of every component's main.ts (pkg/runtime/flags.ts): flags →
// logger → storage (the API server is the one component without a client: it opens etcd) → the
// authorizer chain and the bootstrap RBAC policy → serve until the shutdown signal → drain (end
// watches, close the listener, close etcd).

import { readFileSync, renameSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { PERSISTENTVOLUMECLAIMS, PODS } from "#pkg/api/resources.js";
import type { PersistentVolumeClaim, Pod } from "#pkg/api/types/index.js";
import { writeKubeconfig } from "#pkg/client/kubeconfig.js";
import { ensureServiceAccountKey } from "#pkg/pki/sa-key.js";
import { runMain } from "#pkg/runtime/flags.js";
import { createLogger, type Logger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { aborted, shutdownSignal } from "#pkg/runtime/signals.js";
import { Auditor, LogBackend } from "./audit/audit.js";
import { loadPolicyFile } from "./audit/policy.js";
import { type Authenticator, anonymousEnabled, UnionAuthenticator } from "./auth/authenticator.js";
import { buildAuthorizerChain } from "./auth/authorizer/modes.js";
import { BearerAuthenticator, type TokenAuthenticator, UnionTokenAuthenticator } from "./auth/bearer.js";
import { NodeAuthorizer } from "./auth/node/node-authorizer.js";
import { RbacAuthorizer } from "./auth/rbac/authorizer.js";
import { nodeRules } from "./auth/rbac/bootstrap-policy.js";
import { EXPIRATION_EXTENSION_SECONDS } from "./auth/serviceaccount/claims.js";
import { serviceAccountTokenGetter } from "./auth/serviceaccount/getter.js";
import { JWTTokenGenerator, ServiceAccountTokenAuthenticator } from "./auth/serviceaccount/jwt.js";
import { PublicKeys, readPublicKeys, readSigningKey, type SigningKey } from "./auth/serviceaccount/keys.js";
import { joinHostPort, type OpenIDMetadata, openIDMetadata } from "./auth/serviceaccount/openid.js";
import { ensureTokenFile, loadTokenFile } from "./auth/tokens.js";
import { X509Authenticator } from "./auth/x509.js";
import { type ApiServerOptions, parseFlags } from "./flags.js";
import { KubeletClient } from "./kubelet-client.js";
import { registerKubeletProxy } from "./kubelet-proxy.js";
import { type ExtraListener, listenAlso } from "./listen.js";
import { ApiMetrics } from "./metrics.js";
import { TokenREST } from "./registry/core/serviceaccount/token.js";
import { reconcileBootstrapPolicy } from "./registry/rbac/reconcile.js";
import { Registry } from "./registry/registry.js";
import { buildServer } from "./server.js";
import type { EtcdTLS } from "./storage/etcd.js";
import { loadEncryptionConfig } from "./storage/value/encryption-config.js";
import { loadServingCert } from "./tls.js";

/** How often the kubernetes Service and its Endpoints are reconciled (upstream: 10 s). */
const KUBERNETES_SERVICE_RECONCILE_MS = 10_000;

/** How long draining may take before the process exits anyway. */
const DRAIN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const opts = parseFlags(process.argv);
  const log = createLogger("apiserver", opts.logLevel);
  const signal = shutdownSignal({ log });
  // Before anything else: a bad configuration refuses to start, naming the file or the field.
  const encryption = opts.encryptionProviderConfig ? loadEncryptionConfig(opts.encryptionProviderConfig) : undefined;
  if (encryption)
    log.info({ file: opts.encryptionProviderConfig, resources: encryption.resources }, "encryption at rest");

  const cert = await loadServingCert({
    certFile: opts.tlsCertFile,
    keyFile: opts.tlsPrivateKeyFile,
    certDir: opts.certDir,
    sans: opts.bindAddresses.filter((a) => a !== "0.0.0.0" && a !== "::"),
    log,
  });
  // How logs, exec and port-forward reach kubelets: HTTPS with the kubelet-client certificate.
  const kubelets = KubeletClient.fromOptions(opts.kubeletClient);
  log.info(
    {
      clientCertificate: opts.kubeletClient.certFile,
      certificateAuthority: opts.kubeletClient.caFile ?? "(kubelet serving certificates not verified)",
      preferredAddressTypes: opts.kubeletClient.preferredAddressTypes,
    },
    "kubelet client",
  );
  const authenticators: Authenticator[] = [];
  const x509 = opts.clientCAFile ? X509Authenticator.fromFile(opts.clientCAFile) : undefined;
  if (x509) {
    authenticators.push(x509);
    log.info({ clientCAFile: opts.clientCAFile }, "client certificates authenticate");
  }
  // A standalone server (no client CA, no token file) gets one generated admin token, so that
  // --write-kubeconfig gives a usable kubeconfig; a server with a cluster PKI gets none.
  const tokenFile =
    opts.tokenAuthFile ?? (x509 ? undefined : ensureTokenFile(undefined, join(opts.certDir, "tokens.csv")));
  const tokens = tokenFile ? loadTokenFile(tokenFile) : undefined;
  const apiAudiences = opts.apiAudiences;
  const serviceAccounts = serviceAccountKeys(opts, log);
  // Under AlwaysAllow anonymous requests stay off (see anonymousEnabled), as upstream.
  const authorizationModes = opts.authorizationModes;
  const anonymous = anonymousEnabled(opts.anonymousAuth, authorizationModes);
  if (opts.anonymousAuth && !anonymous) {
    log.info({ authorizationModes }, "anonymous requests refused while authorization is AlwaysAllow");
  }
  if (opts.writeKubeconfig && !tokens?.firstToken) {
    throw new Error(
      "--write-kubeconfig writes a bearer token: it needs --token-auth-file when --client-ca-file is set",
    );
  }

  const registry = await Registry.open({
    etcdServers: opts.etcdServers,
    ...(opts.etcdCAFile ? { etcdTLS: etcdTLS(opts) } : {}),
    prefix: opts.etcdPrefix,
    encryption,
    serviceClusterIPRange: opts.serviceClusterIPRange,
    serviceNodePortRange: opts.serviceNodePortRange,
    compactionIntervalMs: opts.etcdCompactionIntervalMs,
    eventTTLSeconds: opts.eventTTLSeconds,
    admissionPlugins: opts.admissionPlugins,
    log: log.child({ module: "registry" }),
  });

  // Bearer tokens (upstream's order): the token file, audience-agnostic as upstream's, then
  // ServiceAccount tokens, checked against this server's own cache and storage.
  const tokenAuthenticators: TokenAuthenticator[] = [];
  if (tokens) {
    tokenAuthenticators.push(tokens.tokenAuthenticator(apiAudiences));
    log.info({ tokenFile, tokens: tokens.size }, "loaded bearer tokens");
  }
  tokenAuthenticators.push(
    new ServiceAccountTokenAuthenticator({
      issuers: opts.serviceAccountIssuers,
      keys: serviceAccounts.verify,
      implicitAudiences: apiAudiences,
      getter: serviceAccountTokenGetter({
        cached: (r, namespace, name) => registry.watchCache.for(r).get(r.namespaced ? namespace : undefined, name)?.obj,
        store: (r) => registry.store(r),
      }),
    }),
  );
  const bearer = new UnionTokenAuthenticator(tokenAuthenticators);
  authenticators.push(new BearerAuthenticator(bearer, apiAudiences));
  const auth = new UnionAuthenticator(authenticators, { anonymous });
  const tokenRequest = new TokenREST({
    generator: new JWTTokenGenerator(opts.serviceAccountIssuers[0] as string, serviceAccounts.signing),
    audiences: apiAudiences,
    maxExpirationSeconds: opts.serviceAccountMaxTokenExpirationSeconds,
    extendExpiration: opts.serviceAccountExtendTokenExpiration,
    // An extended token lives a year, or the max expiration when that is shorter (upstream).
    maxExtendedExpirationSeconds:
      opts.serviceAccountMaxTokenExpirationSeconds > 0 &&
      opts.serviceAccountMaxTokenExpirationSeconds < EXPIRATION_EXTENSION_SECONDS
        ? opts.serviceAccountMaxTokenExpirationSeconds
        : EXPIRATION_EXTENSION_SECONDS,
    store: (r) => registry.store(r),
  });
  log.info(
    { issuers: opts.serviceAccountIssuers, apiAudiences, keys: serviceAccounts.verify.all.length },
    "service account tokens",
  );
  let issuerDiscovery: OpenIDMetadata | undefined;

  // The authorizer chain reads RBAC objects and pods from the registry's watch cache.
  const chain = buildAuthorizerChain(authorizationModes, {
    rbac: () => new RbacAuthorizer(registry.rbacResolver),
    node: () =>
      new NodeAuthorizer(
        {
          podsOnNode: (node) =>
            registry.watchCache.for(PODS).list(undefined, (p) => (p as Pod).spec?.nodeName === node) as Pod[],
          claimVolumeName: (namespace, name) =>
            (
              registry.watchCache.for(PERSISTENTVOLUMECLAIMS).get(namespace, name)?.obj as
                | PersistentVolumeClaim
                | undefined
            )?.spec?.volumeName,
        },
        nodeRules(),
      ),
  });
  registry.authorizer = chain.authorizer;
  // The RBAC post-start hook, before listening: no request is authorized against a partial policy.
  await reconcileBootstrapPolicy(registry, log.child({ module: "rbac-bootstrap" }));
  log.info({ modes: authorizationModes, anonymous }, "authorization");

  const auditor = auditorFor(opts, log);

  const server = buildServer({
    registry,
    log,
    auth,
    ...(auditor ? { auditor } : {}),
    tokens: { authenticator: bearer, apiAudiences },
    tokenRequest,
    issuerDiscovery: () => issuerDiscovery,
    authorizer: chain.authorizer,
    ruleResolver: chain.ruleResolver,
    tls: { cert: cert.cert, key: cert.key, ...(x509 ? { clientCA: x509.caPem } : {}) },
    metrics: new ApiMetrics(newRegistry()),
    maxRequestsInflight: opts.maxRequestsInflight,
    maxMutatingRequestsInflight: opts.maxMutatingRequestsInflight,
    registerKubeletProxy: (app, ctx) => registerKubeletProxy(app, ctx, kubelets),
  });
  const { app } = server;
  const extraListeners: ExtraListener[] = [];
  let reconcileTimer: NodeJS.Timeout | undefined;

  if (!signal.aborted) {
    const [first = "0.0.0.0", ...more] = opts.bindAddresses;
    await app.listen({ host: first, port: opts.securePort });
    const port = (app.server.address() as AddressInfo).port;
    // The other addresses on the same port (secure-port 0 picked it on the first one).
    for (const address of more) extraListeners.push(await listenAlso(app.server, address, port));
    log.info({ addresses: opts.bindAddresses, port }, "serving https");

    // The in-cluster way to the API, as upstream: Service default/kubernetes on the range's first
    // IP, its Endpoints this server's advertise address; kept so every 10 s (upstream's bootstrap
    // controller, EndpointReconcilerInterval), so a deleted or edited one comes back.
    const advertise = opts.advertiseAddress ?? advertiseAddressFor(opts.bindAddresses);
    issuerDiscovery = issuerDiscoveryFor(opts, joinHostPort(advertise, port), serviceAccounts.verify, log);
    await registry.ensureKubernetesService({ address: advertise, port });
    let reconciling = false;
    reconcileTimer = setInterval(() => {
      if (reconciling) return;
      reconciling = true;
      registry
        .ensureKubernetesService({ address: advertise, port })
        .catch((err: unknown) => log.warn({ err }, "reconciling the kubernetes service"))
        .finally(() => {
          reconciling = false;
        });
    }, KUBERNETES_SERVICE_RECONCILE_MS);
    reconcileTimer.unref();

    if (opts.writeKubeconfig) {
      const token = tokens?.firstToken as string; // checked above; parseTokenFile refuses an empty file
      const serverUrl = opts.kubeconfigServer ?? `https://127.0.0.1:${port}`;
      // Write-then-rename: whoever polls for the file (test harness, launcher) never reads half of it.
      const tmp = `${opts.writeKubeconfig}.tmp-${process.pid}`;
      writeKubeconfig(tmp, { server: serverUrl, token, caPem: cert.caPem, name: "kubeling" });
      renameSync(tmp, opts.writeKubeconfig);
      log.info({ path: opts.writeKubeconfig, server: serverUrl }, "wrote kubeconfig");
    }
    // A SIGTERM during listen or the writes above has already aborted the signal: aborted() sees it.
    await aborted(signal);
  }

  // Drain: open watches end first, then the listener and etcd.
  const force = setTimeout(() => {
    log.warn(`shutdown took longer than ${DRAIN_TIMEOUT_MS / 1000}s, exiting`);
    process.exit(1);
  }, DRAIN_TIMEOUT_MS);
  force.unref();
  try {
    clearInterval(reconcileTimer);
    server.beginShutdown();
    await Promise.all(extraListeners.map((l) => l.close()));
    await app.close();
    await auditor?.close();
    await registry.close();
  } catch (err) {
    log.error({ err }, "error during shutdown");
  }
  clearTimeout(force);
  process.exit(0);
}

/**
 * The signing key (--service-account-signing-key-file, or sa.key generated in --cert-dir and
 * kept) and the verification keys (--service-account-key-file, default the signing key's).
 */
function serviceAccountKeys(opts: ApiServerOptions, log: Logger): { signing: SigningKey; verify: PublicKeys } {
  let file = opts.serviceAccountSigningKeyFile;
  if (!file) {
    file = join(opts.certDir, "sa.key");
    ensureServiceAccountKey(file, join(opts.certDir, "sa.pub"), (line) => log.info(line));
  }
  const signing = readSigningKey(file);
  const verify =
    opts.serviceAccountKeyFiles.length > 0 ? opts.serviceAccountKeyFiles.flatMap((f) => readPublicKeys(f)) : [signing];
  return { signing, verify: new PublicKeys(verify) };
}

/** The issuer's discovery documents, or undefined (logged) when the issuer cannot be discovered, as upstream. */
function issuerDiscoveryFor(
  opts: ApiServerOptions,
  externalAddress: string,
  keys: PublicKeys,
  log: Logger,
): OpenIDMetadata | undefined {
  try {
    return openIDMetadata({
      issuer: opts.serviceAccountIssuers[0] as string,
      jwksURI: opts.serviceAccountJWKSURI,
      externalAddress,
      keys: keys.all,
    });
  } catch (err) {
    log.warn({ err: (err as Error).message }, "service account issuer discovery is not served");
    return undefined;
  }
}

/** The PEM contents of --etcd-cafile/--etcd-certfile/--etcd-keyfile. */
function etcdTLS(opts: ApiServerOptions): EtcdTLS {
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      throw new Error(`${flag} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    ca: read("--etcd-cafile", opts.etcdCAFile as string),
    ...(opts.etcdCertFile ? { cert: read("--etcd-certfile", opts.etcdCertFile) } : {}),
    ...(opts.etcdKeyFile ? { key: read("--etcd-keyfile", opts.etcdKeyFile) } : {}),
  };
}

/**
 * Upstream's default: the bind address, or the first non-loopback IPv4 when bound to all; of
 * several bind addresses the first that is not loopback (the one pods reach), else the first.
 */
function advertiseAddressFor(bindAddresses: readonly string[]): string {
  const specific = bindAddresses.filter((a) => a !== "0.0.0.0" && a !== "::");
  if (specific.length === bindAddresses.length && specific.length > 0)
    return specific.find((a) => !a.startsWith("127.") && a !== "::1") ?? (specific[0] as string);
  for (const addrs of Object.values(networkInterfaces())) {
    const v4 = addrs?.find((a) => a.family === "IPv4" && !a.internal);
    if (v4) return v4.address;
  }
  return "127.0.0.1";
}

/**
 * The audit log of --audit-policy-file and --audit-log-path (upstream: no policy, no events; a
 * policy that does not load stops the server).
 */
function auditorFor(opts: ApiServerOptions, log: Logger): Auditor | undefined {
  if (!opts.auditPolicyFile) {
    if (opts.auditLogPath) log.info("no audit policy file provided, no events will be recorded");
    return undefined;
  }
  const policy = loadPolicyFile(opts.auditPolicyFile);
  if (!opts.auditLogPath) return undefined;
  log.info({ path: opts.auditLogPath, policy: opts.auditPolicyFile, rules: policy.rules.length }, "audit log");
  return new Auditor(policy, new LogBackend(opts.auditLogPath));
}

runMain(main);
