import assert from "node:assert/strict";
import net, { type AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Agent, request } from "undici";
import type { WebSocket } from "ws";
import { isNotFound, StatusError } from "#pkg/api/errors.js";
import type { Pod } from "#pkg/api/types/index.js";
import { type CertKey, newCA, newCert } from "#pkg/pki/certs.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { Counter, newRegistry } from "#pkg/runtime/metrics.js";
import { DelegatingAuthenticator, type RequestAuthenticator, type UserInfo } from "#pkg/server/authentication.js";
import type { Attributes, RequestAuthorizer } from "#pkg/server/authorization.js";
import { X509Authenticator } from "#pkg/server/x509.js";
import {
  Channel,
  frame,
  parseFrame,
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V4_BASE64,
  STREAM_PROTOCOL_V5,
} from "#pkg/streaming/protocols.js";
import { dialWebSocket } from "#pkg/streaming/websocket.js";
import { FakeRuntime } from "./runtime/fake.js";
import type { AttachOptions, AttachSession, ContainerInfo, ExecOptions, ExecSession } from "./runtime/runtime.js";
import { KubeletServer, type KubeletView } from "./server.js";

const POD: Pod = {
  metadata: { name: "web", namespace: "default", uid: "u1" },
  spec: { containers: [{ name: "c", image: "busybox" }] },
};

const RUNNING: ContainerInfo = {
  id: "c1",
  name: "c",
  type: "app",
  podUid: "u1",
  podName: "web",
  podNamespace: "default",
  restartCount: 0,
  hash: "",
  state: "running",
  image: "busybox",
  imageId: "sha256:busybox",
};

/** exec echoes stdin to stdout and exits 3 once stdin closes. */
class EchoRuntime extends FakeRuntime {
  override async exec(_id: string, o: ExecOptions): Promise<ExecSession> {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdin.pipe(stdout);
    stderr.end();
    const exited = new Promise<number>((resolve) => stdout.on("end", () => resolve(3)));
    return {
      ...(o.stdin ? { stdin } : {}),
      stdout,
      stderr,
      resize: async () => {},
      wait: () => exited,
      close: () => {},
    };
  }
}

/** attach: the main process echoes stdin, upper-cased, and its stream ends once stdin closes. */
class AttachEchoRuntime extends EchoRuntime {
  readonly attached: AttachOptions[] = [];
  override async attach(_id: string, o: AttachOptions): Promise<AttachSession> {
    this.attached.push(o);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdin.on("data", (d: Buffer) => stdout.write(d.toString().toUpperCase()));
    stdin.on("end", () => stdout.end());
    stderr.end();
    const ended = new Promise<void>((resolve) => stdout.on("end", () => resolve()));
    return {
      ...(o.stdin ? { stdin } : {}),
      stdout,
      stderr,
      resize: async () => {},
      wait: () => ended,
      close: () => {},
    };
  }
}

const view: KubeletView = {
  getPod: (ns, name) => (ns === "default" && name === "web" ? POD : undefined),
  containerFor: async (_pod, name) => (name === "c" ? RUNNING : undefined),
  // The pod's "network" is the loopback: port-forward tests dial a local server.
  podIP: async () => "127.0.0.1",
  summary: async () => ({}),
};

// The kubelet's port as in production: HTTPS with a serving certificate of a test CA, client
// certificates of that CA, tokens through a fake TokenReview (admin may do anything, viewer may
// read nodes/metrics only), every request authorized as a SubjectAccessReview would be.
const TOKENS: Record<string, UserInfo> = {
  admin: { name: "admin", uid: "", groups: ["system:masters"] },
  viewer: { name: "system:serviceaccount:ns:sa", uid: "", groups: ["system:serviceaccounts"] },
};
const tokens: RequestAuthenticator = {
  authenticateRequest(req) {
    const h = req.headers.authorization;
    if (!h?.startsWith("Bearer ")) return undefined;
    const u = TOKENS[h.slice(7)];
    return u ? { user: u } : { error: "invalid bearer token" };
  },
};
const asked: Attributes[] = [];
const authorizer: RequestAuthorizer = {
  authorize(a) {
    asked.push(a);
    if (a.user.name === "kube-apiserver-kubelet-client" || a.user.groups.includes("system:masters"))
      return { decision: "Allow", reason: "" };
    if (a.user.name === "system:serviceaccount:ns:sa" && a.subresource === "metrics")
      return { decision: "Allow", reason: "" };
    return { decision: "NoOpinion", reason: "" };
  },
};

describe("KubeletServer errors and exec", () => {
  const registry = newRegistry({ processMetrics: false });
  new Counter({ name: "kubelet_test_total", help: "Test.", registers: [registry] }).inc();
  let synced = false;
  let server: KubeletServer;
  const runtime = new AttachEchoRuntime();
  let ca: CertKey;
  let base: string;
  let agent: Agent;
  /** GET with the admin token unless told otherwise. */
  const get = async (path: string, o: { token?: string | null; dispatcher?: Agent } = {}) => {
    const token = o.token === undefined ? "admin" : o.token;
    const res = await request(`https://${base}${path}`, {
      dispatcher: o.dispatcher ?? agent,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.statusCode, type: String(res.headers["content-type"]), body: await res.body.text() };
  };
  const dial = (path: string, protocols: string[], token: string | null = "admin") =>
    dialWebSocket(`wss://${base}${path}`, protocols, {
      ca: ca.cert,
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
  before(async () => {
    ca = await newCA("kubernetes");
    const serving = await newCert(ca, {
      commonName: "node-1",
      usages: ["serverAuth"],
      altNames: ["127.0.0.1", "node-1"],
    });
    const x509 = new X509Authenticator(ca.cert);
    server = new KubeletServer({
      kubelet: view,
      runtime,
      log: silentLogger,
      nodeName: "node-1",
      tls: { cert: serving, clientCA: ca.cert },
      authenticator: new DelegatingAuthenticator([x509, tokens], { anonymous: false }),
      authorizer,
      health: { registry, readyz: { pods: () => synced || "not synced" } },
    });
    base = `127.0.0.1:${await server.listen(0, "127.0.0.1")}`;
    agent = new Agent({ connect: { ca: ca.cert } });
  });
  after(async () => {
    await agent?.close();
    await server?.close();
  });

  it("serves /healthz, /livez, /readyz (the pods synced) and /metrics", async () => {
    const answer = async (path: string): Promise<[number, string]> => {
      const r = await get(path);
      return [r.status, r.body];
    };
    assert.deepEqual(await answer("/healthz"), [200, "ok"]);
    assert.deepEqual(await answer("/livez"), [200, "ok"]);
    assert.deepEqual(await answer("/readyz"), [503, "not ready: pods: not synced"]);
    synced = true;
    assert.deepEqual(await answer("/readyz"), [200, "ok"]);
    assert.match((await answer("/metrics"))[1], /^kubelet_test_total 1$/m);
  });

  it("answers 401 without credentials or with a bad token, /healthz included", async () => {
    for (const path of ["/healthz", "/metrics", "/containerLogs/default/web/c"]) {
      assert.deepEqual(await get(path, { token: null }), {
        status: 401,
        type: "text/plain; charset=utf-8",
        body: "Unauthorized",
      });
    }
    assert.equal((await get("/healthz", { token: "forged" })).status, 401);
    await assert.rejects(
      dial("/exec/default/web/c?command=sh", [STREAM_PROTOCOL_V5], null),
      (err: unknown) => err instanceof StatusError && err.code === 401 && /Unauthorized/.test(err.message),
    );
  });

  it("answers 403 with upstream's message to a caller without the node subresource", async () => {
    asked.length = 0;
    const r = await get("/containerLogs/default/web/c", { token: "viewer" });
    assert.equal(r.status, 403);
    assert.equal(
      r.body,
      "Forbidden (user=system:serviceaccount:ns:sa, verb=get, resource=nodes, subresource(s)=[proxy])\n",
    );
    assert.deepEqual(
      asked.map((a) => [a.verb, a.resource, a.subresource, a.name, a.apiVersion, a.resourceRequest]),
      [["get", "nodes", "proxy", "node-1", "v1", true]],
    );
    // /healthz asks for nodes/healthz first, then nodes/proxy (KubeletFineGrainedAuthz).
    assert.match((await get("/healthz", { token: "viewer" })).body, /subresource\(s\)=\[healthz proxy\]/);
    // nodes/metrics is what the viewer holds.
    assert.equal((await get("/metrics", { token: "viewer" })).status, 200);
    await assert.rejects(
      dial("/exec/default/web/c?command=sh", [STREAM_PROTOCOL_V5], "viewer"),
      (err: unknown) =>
        err instanceof StatusError && err.code === 403 && /subresource\(s\)=\[proxy\]/.test(err.message),
    );
  });

  it("authenticates the API server by its kubelet-client certificate", async () => {
    const client = await newCert(ca, {
      commonName: "kube-apiserver-kubelet-client",
      organizations: ["kubeadm:cluster-admins"],
      usages: ["clientAuth"],
    });
    const withCert = new Agent({ connect: { ca: ca.cert, cert: client.cert, key: client.key } });
    try {
      assert.deepEqual((await get("/healthz", { token: null, dispatcher: withCert })).body, "ok");
    } finally {
      await withCert.close();
    }
    const { ws } = await dialWebSocket(
      `wss://${base}/exec/default/web/c?command=cat&stdin=true`,
      [STREAM_PROTOCOL_V5],
      {
        ca: ca.cert,
        cert: client.cert,
        key: client.key,
      },
    );
    ws.close();
  });

  it("answers errors with a Status body", async () => {
    const res = await get("/containerLogs/default/missing/c");
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.body), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pod "missing" not found on this node',
      reason: "NotFound",
      code: 404,
    });
    const bad = await get("/containerLogs/default/web/nope");
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.body) as { message: string }).message, "container nope is not valid for pod web");
  });

  it("refuses an exec upgrade with the Status of what is wrong", async () => {
    await assert.rejects(dial("/exec/default/missing/c?command=sh", [STREAM_PROTOCOL_V5]), (err: unknown) =>
      isNotFound(err),
    );
    await assert.rejects(
      dial("/exec/default/web/c?command=sh", ["v1.channel.k8s.io"]),
      (err: unknown) => err instanceof StatusError && err.code === 400 && /unsupported subprotocols/.test(err.message),
    );
  });

  it("reads exec's boolean parameters as strconv.ParseBool: the Python client's stdin=True opens stdin; stdin=yes is a 400", async () => {
    const { ws } = await dial("/exec/default/web/c?command=cat&stdin=True&stdout=True&tty=False", [STREAM_PROTOCOL_V5]);
    const got: string[] = [];
    const closed = new Promise<void>((resolve) => ws.on("close", () => resolve()));
    ws.on("message", (m: Buffer) => {
      const f = parseFrame(m);
      if (f?.channel === Channel.Stdout) got.push(f.payload.toString());
    });
    ws.send(frame(Channel.Stdin, "from python"));
    ws.send(frame(Channel.Close, Buffer.from([Channel.Stdin])));
    await closed;
    assert.deepEqual(got, ["from python"]);
    await assert.rejects(
      dial("/exec/default/web/c?command=cat&stdin=yes", [STREAM_PROTOCOL_V5]),
      (err: unknown) =>
        err instanceof StatusError &&
        err.code === 400 &&
        err.message === 'invalid value for stdin: "yes" (must be true or false)',
    );
  });

  it("attaches to the main process: no command needed, stdin in, stdout out, Success once it ends", async () => {
    const { ws } = await dial("/attach/default/web/c?stdin=true&stdout=true&tty=true", [STREAM_PROTOCOL_V5]);
    const got: Array<[number, string]> = [];
    const closed = new Promise<void>((resolve) => ws.on("close", () => resolve()));
    ws.on("message", (m: Buffer) => {
      const f = parseFrame(m);
      if (f) got.push([f.channel, f.payload.toString()]);
    });
    ws.send(frame(Channel.Stdin, "hello"));
    ws.send(frame(Channel.Close, Buffer.from([Channel.Stdin])));
    await closed;
    assert.deepEqual(got[0], [Channel.Stdout, "HELLO"]);
    assert.equal(got.at(-1)?.[0], Channel.Error);
    assert.equal((JSON.parse(got.at(-1)?.[1] ?? "{}") as { status?: string }).status, "Success");
    assert.deepEqual(runtime.attached.at(-1), { stdin: true, tty: true });
    await assert.rejects(
      dial("/attach/default/web/nope?stdin=true", [STREAM_PROTOCOL_V5]),
      (err: unknown) =>
        err instanceof StatusError && err.code === 400 && err.message === "container nope is not valid for pod web",
    );
  });

  it("runs an exec over v5.channel.k8s.io: stdin, stdout, CLOSE, and the exit code on the status channel", async () => {
    const { ws, protocol } = await dial("/exec/default/web/c?command=cat&stdin=true&stdout=true", [STREAM_PROTOCOL_V5]);
    assert.equal(protocol, STREAM_PROTOCOL_V5);
    const got: Array<[number, string]> = [];
    const closed = new Promise<void>((resolve) => ws.on("close", () => resolve()));
    ws.on("message", (m: Buffer) => {
      const f = parseFrame(m);
      if (f) got.push([f.channel, f.payload.toString()]);
    });
    ws.send(frame(Channel.Stdin, "hello"));
    ws.send(frame(Channel.Close, Buffer.from([Channel.Stdin])));
    await closed;
    assert.deepEqual(got[0], [Channel.Stdout, "hello"]);
    const status = JSON.parse(got.at(-1)?.[1] ?? "{}") as { status: string; reason: string; details: unknown };
    assert.equal(got.at(-1)?.[0], Channel.Error);
    assert.equal(status.status, "Failure");
    assert.equal(status.reason, "NonZeroExitCode");
    assert.deepEqual(status.details, { causes: [{ reason: "ExitCode", message: "3" }] });
  });

  describe("port-forward over the channel protocol", () => {
    let echo: net.Server;
    let echoPort: number;
    /** A port nothing listens on. */
    let closedPort: number;
    before(async () => {
      // Answers each connection's first chunk with "pong:<chunk>", then closes it.
      echo = net.createServer((c) => c.once("data", (d: Buffer) => c.end(`pong:${d}`)));
      await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
      echoPort = (echo.address() as AddressInfo).port;
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
      closedPort = (probe.address() as AddressInfo).port;
      await new Promise((r) => probe.close(r));
    });
    after(async () => {
      await new Promise((r) => echo.close(r));
    });

    /** Every message of a session until the server closes it, as [channel, payload]. */
    const session = async (path: string, protocols: string[], send: (ws: WebSocket) => void) => {
      const { ws, protocol } = await dial(path, protocols);
      const got: Array<[number, Buffer, boolean]> = [];
      const closed = new Promise<void>((resolve) => ws.on("close", () => resolve()));
      ws.on("message", (m: Buffer, isBinary: boolean) => {
        const f = parseFrame(m);
        if (f) got.push([f.channel, f.payload, isBinary]);
      });
      send(ws);
      await closed;
      return { protocol, got };
    };
    const le = (port: number) => [port & 0xff, port >> 8];

    it("v4.channel.k8s.io: each channel's first message is the port, little-endian; data both ways; closed when the pod closes", async () => {
      const { protocol, got } = await session(`/portForward/default/web?port=${echoPort}`, [STREAM_PROTOCOL_V4], (ws) =>
        ws.send(frame(0, "ping")),
      );
      assert.equal(protocol, STREAM_PROTOCOL_V4);
      assert.deepEqual(
        got.filter(([, , bin]) => !bin),
        [],
      );
      assert.deepEqual([...(got.find(([c]) => c === 0)?.[1] ?? [])], le(echoPort));
      assert.deepEqual([...(got.find(([c]) => c === 1)?.[1] ?? [])], le(echoPort));
      const data = Buffer.concat(got.filter(([c]) => c === 0).map(([, p]) => p)).subarray(2);
      assert.equal(data.toString(), "pong:ping");
      assert.equal(got.filter(([c]) => c === 1).length, 1, "nothing on the error channel but the port");
    });

    it("v4.base64.channel.k8s.io: text messages, '0'+channel then base64", async () => {
      const { got } = await session(`/portForward/default/web?port=${echoPort}`, [STREAM_PROTOCOL_V4_BASE64], (ws) =>
        ws.send(`0${Buffer.from("b64").toString("base64")}`),
      );
      assert.ok(got.every(([, , bin]) => !bin));
      const dataChannel = got.filter(([c]) => c === 48).map(([, p]) => Buffer.from(p.toString(), "base64"));
      assert.deepEqual([...(dataChannel[0] ?? [])], le(echoPort));
      assert.equal(Buffer.concat(dataChannel.slice(1)).toString(), "pong:b64");
    });

    it("no subprotocol, two ports: channels 0-3 in order of ?port=; a refused port's error on its error channel", async () => {
      const { protocol, got } = await session(`/portForward/default/web?port=${closedPort},${echoPort}`, [], (ws) =>
        ws.send(frame(2, "second")),
      );
      assert.equal(protocol, "");
      assert.deepEqual([...(got.find(([c]) => c === 2)?.[1] ?? [])], le(echoPort));
      assert.equal(
        Buffer.concat(got.filter(([c]) => c === 2).map(([, p]) => p))
          .subarray(2)
          .toString(),
        "pong:second",
      );
      const errors = got.filter(([c]) => c === 1).map(([, p]) => p);
      assert.deepEqual([...(errors[0] ?? [])], le(closedPort));
      assert.match(
        errors[1]?.toString() ?? "",
        new RegExp(`^error forwarding port ${closedPort} to pod default/web, uid u1: .*ECONNREFUSED`),
      );
    });

    it("refuses a channel session without ports, or with a bad one, as upstream's NewV4Options", async () => {
      await assert.rejects(
        dial("/portForward/default/web", [STREAM_PROTOCOL_V4]),
        (err: unknown) =>
          err instanceof StatusError && err.code === 400 && err.message === 'query parameter "port" is required',
      );
      await assert.rejects(
        dial("/portForward/default/web?port=0", [STREAM_PROTOCOL_V4]),
        (err: unknown) => err instanceof StatusError && err.code === 400 && err.message === 'port "0" must be > 0',
      );
      await assert.rejects(
        dial("/portForward/default/web?port=80,x", []),
        (err: unknown) =>
          err instanceof StatusError &&
          err.code === 400 &&
          err.message === 'unable to parse "80,x" as a port: strconv.ParseUint: parsing "x": invalid syntax',
      );
    });
  });
});
