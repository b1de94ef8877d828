// Raw HTTPS requests against a test API server, for tests that need exact control over
// headers and bodies (no Content-Type, protobuf, bad tokens) which ApiClient rightly hides.

import { Agent, request } from "undici";
import type { TestApiServer } from "./apiserver.js";

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body as bytes (protobuf answers). */
  bytes: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: tests poke into arbitrary JSON answers
  json: any;
}

const agents = new Map<string, Agent>();

function agentFor(srv: Pick<TestApiServer, "caPem">): Agent {
  let a = agents.get(srv.caPem);
  if (!a) {
    a = new Agent({ connect: { ca: srv.caPem } });
    agents.set(srv.caPem, a);
  }
  return a;
}

/**
 * raw sends one request. `token: null` sends no Authorization header; a string sends that
 * token; undefined uses the server's token. Headers are sent exactly as given.
 */
export async function raw(
  srv: Pick<TestApiServer, "url" | "token" | "caPem">,
  method: string,
  path: string,
  o: { body?: string | Buffer; headers?: Record<string, string>; token?: string | null } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  const token = o.token === undefined ? srv.token : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await request(`${srv.url}${path}`, {
    method: method as "GET",
    headers,
    body: o.body,
    dispatcher: agentFor(srv),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const text = bytes.toString("utf8");
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, bytes, json };
}

/** closeRawAgents closes the connection pools (call in after()). */
export async function closeRawAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((a) => a.close()));
}
