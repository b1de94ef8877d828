// One HTTPS GET against a component's secure port (the scheduler's, the controller-manager's, a
// kubelet's), with the credentials a test chooses: a bearer token, a client certificate, or none
// (anonymous). The serving certificate is checked against `ca` when given; the self-signed
// certificates of the scheduler and controller-manager are not checked.

import { Agent, request } from "undici";

export interface HttpsCredentials {
  /** A bearer token; absent: none sent. */
  token?: string | undefined;
  /** A client certificate and its key (PEM). */
  cert?: string | undefined;
  key?: string | undefined;
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export async function httpsGet(
  url: string,
  o: HttpsCredentials & { ca?: string; method?: string; signal?: AbortSignal } = {},
): Promise<HttpsAnswer> {
  const agent = new Agent({
    connect: {
      ...(o.ca ? { ca: o.ca } : { rejectUnauthorized: false }),
      ...(o.cert && o.key ? { cert: o.cert, key: o.key } : {}),
    },
  });
  try {
    const res = await request(url, {
      method: (o.method ?? "GET") as "GET",
      dispatcher: agent,
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      signal: o.signal ?? AbortSignal.timeout(10_000),
    });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  } finally {
    await agent.close();
  }
}
