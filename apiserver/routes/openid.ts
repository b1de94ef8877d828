// Service account issuer discovery's two documents (upstream pkg/routes/openidmetadata.go):
// rendered by auth/serviceaccount/openid.ts, served with an hour's public caching. Requests are
// authenticated and authorized as any other non-resource URL (RBAC's
// system:service-account-issuer-discovery grants them to every ServiceAccount). Until the
// documents exist (the server learns its external address when it listens), or when the issuer
// cannot be discovered, the paths answer 404.

import type { FastifyInstance, FastifyReply } from "fastify";
import {
  JWKS_CONTENT_TYPE,
  JWKS_PATH,
  OPENID_CACHE_CONTROL,
  OPENID_CONFIG_PATH,
  type OpenIDMetadata,
} from "../auth/serviceaccount/openid.js";

export function registerOpenIDRoutes(
  app: FastifyInstance,
  metadata: () => OpenIDMetadata | undefined,
  notFound: (reply: FastifyReply) => FastifyReply,
): void {
  const serve = (reply: FastifyReply, contentType: string, body: (m: OpenIDMetadata) => string) => {
    const m = metadata();
    if (!m) return notFound(reply);
    return reply
      .code(200)
      .header("content-type", contentType)
      .header("cache-control", OPENID_CACHE_CONTROL)
      .send(Buffer.from(body(m)));
  };
  app.get(OPENID_CONFIG_PATH, (_req, reply) => serve(reply, "application/json", (m) => m.configJSON));
  app.get(JWKS_PATH, (_req, reply) => serve(reply, JWKS_CONTENT_TYPE, (m) => m.keysetJSON));
}
