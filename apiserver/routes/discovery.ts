// Discovery endpoints. The documents come from apiserver/discovery.ts (pure functions over the
// resource table); they never change while the process runs, so each is serialised once.
// /api and /apis answer aggregated discovery (with the exact Content-Type parameters kubectl
// requires, KUBECTL_WIRE 1.8) only when the Accept header asks for it, else the legacy form.

import type { FastifyInstance, FastifyReply } from "fastify";
import { StatusError } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import {
  aggregatedDiscovery,
  apiResourceList,
  DISCOVERY_CONTENT_TYPE,
  groupVersions,
  legacyApiGroup,
  legacyApiGroupList,
  legacyApiVersions,
  negotiateDiscovery,
} from "../discovery.js";
import { JSON_TYPE } from "../http/status.js";
import { OPENAPI_V2_PROTOBUF_TYPE, openApiV3Document, openApiV3Index } from "../openapi.js";
import { openApiV2 } from "../openapi-v2.js";

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function notFound(): StatusError {
  return new StatusError(404, "NotFound", "the server could not find the requested resource");
}

/** Bodies are Buffers: Fastify would rewrite the exact Content-Type kubectl needs for a string. */
function sendJson(reply: FastifyReply, body: Buffer, contentType = JSON_TYPE): FastifyReply {
  return reply.code(200).header("content-type", contentType).send(body);
}

export function registerDiscoveryRoutes(app: FastifyInstance, deps: { resources: readonly ResourceInfo[] }): void {
  const { resources } = deps;
  const aggregated = {
    core: {
      v2: json(aggregatedDiscovery("core", "v2", resources)),
    },
    apis: {
      v2: json(aggregatedDiscovery("apis", "v2", resources)),
    },
  };
  const groupList = json(legacyApiGroupList(resources));
  const groups = new Map<string, Buffer>();
  const resourceLists = new Map<string, Buffer>();
  for (const gv of groupVersions(resources)) {
    const list = apiResourceList(gv.group, gv.version, resources);
    if (list) resourceLists.set(`${gv.group}/${gv.version}`, json(list));
    if (gv.group && !groups.has(gv.group)) {
      const g = legacyApiGroup(gv.group, resources);
      if (g) groups.set(gv.group, json(g));
    }
  }

  const root =
    (which: "core" | "apis") =>
    (req: { headers: { accept?: string | undefined; host?: string | undefined } }, reply: FastifyReply) => {
      const flavour = negotiateDiscovery(req.headers.accept);
      // Caches in between must not mix the aggregated and legacy answers.
      reply.header("vary", "Accept");
      if (flavour !== "legacy") return sendJson(reply, aggregated[which][flavour], DISCOVERY_CONTENT_TYPE[flavour]);
      if (which === "apis") return sendJson(reply, groupList);
      return sendJson(reply, json(legacyApiVersions(req.headers.host ?? "")));
    };
  app.get("/api", root("core"));
  app.get("/apis", root("apis"));

  // OpenAPI v3 (kubectl apply / create -f validate against it). Documents are serialised on
  // first use and then served from memory; the ?hash= URLs from the index are immutable.
  const index = json(openApiV3Index(resources));
  const docs = new Map<string, { body: Buffer; hash: string }>();
  app.get("/openapi/v3", (_req, reply) => sendJson(reply, index));
  app.get("/openapi/v3/*", (req, reply) => {
    const path = (req.params as { "*": string })["*"];
    let d = docs.get(path);
    if (!d) {
      const found = openApiV3Document(path, resources);
      if (!found) throw notFound();
      d = { body: json(found.doc), hash: found.hash };
      docs.set(path, d);
    }
    reply.header("etag", `"${d.hash}"`);
    if ((req.query as { hash?: string }).hash === d.hash) reply.header("cache-control", "public, immutable");
    return sendJson(reply, d.body);
  });
  // v2 (kubectl 1.27/1.28's explain, client-side apply and validation; openapi-v2.ts), built on
  // first request and then served from memory. As upstream's handler: protobuf for a protobuf
  // Accept without JSON, typed with the dotted form of the media type (Go's mime parser, in
  // kubectl, refuses the "@" of the requested one); one ETag for both forms, a 304 for a client
  // that already has it (client-go's disk cache revalidates with If-None-Match).
  const wantsProtobuf = (accept = "") => accept.includes("protobuf") && !accept.includes("application/json");
  app.get("/openapi/v2", (req, reply) => {
    const v2 = openApiV2(resources);
    reply.header("vary", "Accept").header("etag", v2.etag);
    const inm = req.headers["if-none-match"];
    if (inm?.split(",").some((t) => t.trim().replace(/^W\//, "") === v2.etag)) return reply.code(304).send();
    if (wantsProtobuf(req.headers.accept)) return sendJson(reply, v2.protobuf, OPENAPI_V2_PROTOBUF_TYPE);
    return sendJson(reply, v2.json);
  });

  app.get("/api/:version", (req, reply) => {
    const { version } = req.params as { version: string };
    const list = resourceLists.get(`/${version}`);
    if (!list) throw notFound();
    return sendJson(reply, list);
  });
  app.get("/apis/:group", (req, reply) => {
    const { group } = req.params as { group: string };
    const g = groups.get(group);
    if (!g) throw notFound();
    return sendJson(reply, g);
  });
  app.get("/apis/:group/:version", (req, reply) => {
    const { group, version } = req.params as { group: string; version: string };
    const list = resourceLists.get(`${group}/${version}`);
    if (!list) throw notFound();
    return sendJson(reply, list);
  });
}
