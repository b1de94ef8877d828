// A deliberately thin HTTPS client for benchmarks: undici Pool, a bearer token or a client
// certificate, the API server's CA, bodies read as text. pkg/client's ApiClient does more per call
// (typed errors, decoding); here we want the figures to show the server, not the client.

import { Pool } from "undici";

export interface BenchTarget {
  url: string;
  /** Sent as a bearer token unless clientCert is given. */
  token: string;
  caPem: string;
  /** A client certificate to authenticate with instead of the token (PEM). */
  clientCert?: { cert: string; key: string };
}

export interface BenchResponse {
  status: number;
  text: string;
}

export class BenchHttp {
  readonly pool: Pool;
  private readonly headers: Record<string, string>;

  constructor(
    readonly target: BenchTarget,
    connections: number,
  ) {
    this.pool = new Pool(target.url, {
      connections,
      pipelining: 1,
      connect: { ca: target.caPem, ...(target.clientCert ?? {}) },
      // Watches stream for as long as the benchmark runs.
      bodyTimeout: 0,
      headersTimeout: 30_000,
    });
    this.headers = target.clientCert
      ? { accept: "application/json" }
      : { authorization: `Bearer ${target.token}`, accept: "application/json" };
  }

  async request(method: string, path: string, body?: unknown): Promise<BenchResponse> {
    const res = await this.pool.request({
      method: method as "GET",
      path,
      headers: body === undefined ? this.headers : { ...this.headers, "content-type": "application/json" },
      body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  /**
   * getBytes GETs path with the given Accept header and reads the body as bytes (no decoding:
   * JSON and protobuf answers cost the client the same here); throws unless the status is 200.
   */
  async getBytes(path: string, accept: string): Promise<{ contentType: string; body: Buffer }> {
    const res = await this.pool.request({ method: "GET", path, headers: { ...this.headers, accept } });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200)
      throw new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.toString().slice(0, 300)}`);
    return { contentType: String(res.headers["content-type"] ?? ""), body };
  }

  /** expect sends a request and throws unless the status is one of `ok`. */
  async expect(method: string, path: string, ok: readonly number[], body?: unknown): Promise<string> {
    const r = await this.request(method, path, body);
    if (!ok.includes(r.status)) {
      throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    }
    return r.text;
  }

  /** ensureNamespace creates a namespace, accepting one that already exists. */
  async ensureNamespace(name: string): Promise<void> {
    await this.expect("POST", "/api/v1/namespaces", [200, 201, 409], {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** destroy drops every connection at once, open streams included. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

/** configMap builds a ConfigMap of about `size` bytes of JSON. */
export function configMap(ns: string, name: string, data: string): object {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ns, labels: { app: "kubeling-bench", "bench.kubeling.io/run": "1" } },
    data: { "payload.txt": data },
  };
}
