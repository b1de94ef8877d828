// Service account issuer discovery (upstream pkg/serviceaccount/openidmetadata.go): the OIDC
// provider configuration at /.well-known/openid-configuration and the JWKS of the verification
// keys at /openid/v1/jwks, so that relying parties outside the cluster can check ServiceAccount
// tokens themselves. The issuer must be an https URL without query or fragment; jwks_uri is
// --service-account-jwks-uri, or https://<external address>/openid/v1/jwks (the advertise
// address and the secure port, as upstream's ExternalAddress). Both documents are rendered once.

import { type PublicKey, publicJWK } from "./keys.js";

export const OPENID_CONFIG_PATH = "/.well-known/openid-configuration";
export const JWKS_PATH = "/openid/v1/jwks";
/** upstream routes/openidmetadata.go: both answers may be cached an hour. */
export const OPENID_CACHE_CONTROL = "public, max-age=3600";
export const JWKS_CONTENT_TYPE = "application/jwk-set+json";

export interface OpenIDMetadata {
  configJSON: string;
  keysetJSON: string;
}

function parseURL(u: string): URL {
  try {
    return new URL(u);
  } catch {
    throw new Error(`parse "${u}": invalid URL`);
  }
}

/**
 * upstream NewOpenIDMetadataProvider: the two documents, or an error (upstream then logs it and
 * serves neither endpoint).
 */
export function openIDMetadata(o: {
  issuer: string;
  jwksURI?: string | undefined;
  /** host:port the server is reached at, for the default jwks_uri. */
  externalAddress?: string | undefined;
  keys: readonly PublicKey[];
}): OpenIDMetadata {
  if (!o.issuer) throw new Error("empty issuer URL");
  if (!o.jwksURI && !o.externalAddress)
    throw new Error("either the JWKS URI or the default external address, or both, must be set");
  const iss = parseURL(o.issuer);
  if (iss.protocol !== "https:") throw new Error(`issuer URL must use https scheme, got: ${o.issuer}`);
  if (iss.search !== "") throw new Error(`issuer URL may not include a query, got: ${o.issuer}`);
  if (iss.hash !== "") throw new Error(`issuer URL may not include a fragment, got: ${o.issuer}`);
  let jwksURI = o.jwksURI ?? "";
  if (jwksURI) {
    const u = parseURL(jwksURI);
    if (u.protocol !== "https:") throw new Error(`jwksURI requires https scheme, parsed as: ${jwksURI}`);
  } else {
    jwksURI = `https://${o.externalAddress}${JWKS_PATH}`;
    const u = parseURL(jwksURI);
    if (u.pathname !== JWKS_PATH || u.host === "")
      throw new Error(
        `attempted to build jwks_uri from external address ${o.externalAddress}, but could not construct a valid URL`,
      );
  }
  if (o.keys.length === 0) throw new Error("no keys provided for validating keyset");
  const keys = o.keys.map(publicJWK);
  const algs = [...new Set(keys.map((k) => k.alg as string))].sort();
  return {
    configJSON: JSON.stringify({
      issuer: o.issuer,
      jwks_uri: jwksURI,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: algs,
    }),
    keysetJSON: JSON.stringify({ keys }),
  };
}

/** host:port as Go's net.JoinHostPort writes it (IPv6 in brackets). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
