// Line-delimited JSON over an HTTP body (watch streams), for requests made with
// ApiClient.request (table watches need their own Accept header).

import type { Readable } from "node:stream";
import { StatusError } from "#pkg/api/errors.js";
import { statusErrorFromBody } from "#pkg/client/client.js";

export async function readAll(body: Readable): Promise<string> {
  let text = "";
  body.setEncoding("utf8");
  for await (const chunk of body as AsyncIterable<string>) text += chunk;
  return text;
}

/** Throws the Status of a non-2xx answer (consuming the body). */
export async function ensureOk(res: { statusCode: number; body: Readable }): Promise<void> {
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  throw statusErrorFromBody(res.statusCode, await readAll(res.body));
}

export async function* jsonLines<T>(body: Readable): AsyncGenerator<T> {
  let buf = "";
  body.setEncoding("utf8");
  for await (const chunk of body as AsyncIterable<string>) {
    buf += chunk;
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
      nl = buf.indexOf("\n");
    }
  }
  if (buf.trim()) yield JSON.parse(buf) as T;
}

export { StatusError };
