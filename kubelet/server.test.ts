import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { isNotFound, StatusError } from "#pkg/api/errors.js";
import type { Pod } from "#pkg/api/types/index.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { Counter, newRegistry } from "#pkg/runtime/metrics.js";
import { Channel, frame, parseFrame, STREAM_PROTOCOL_V5 } from "#pkg/streaming/protocols.js";
import { dialWebSocket } from "#pkg/streaming/websocket.js";
import { FakeRuntime } from "./runtime/fake.js";
import type { ContainerInfo, ExecOptions, ExecSession } from "./runtime/runtime.js";
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

const view: KubeletView = {
  getPod: (ns, name) => (ns === "default" && name === "web" ? POD : undefined),
  containerFor: async (_pod, name) => (name === "c" ? RUNNING : undefined),
  podIP: async () => "10.0.0.1",
  summary: async () => ({}),
};

describe("KubeletServer errors and exec", () => {
  const registry = newRegistry({ processMetrics: false });
  new Counter({ name: "kubelet_test_total", help: "Test.", registers: [registry] }).inc();
  let synced = false;
  const server = new KubeletServer({
    kubelet: view,
    runtime: new EchoRuntime(),
    log: silentLogger,
    health: { registry, readyz: { pods: () => synced || "not synced" } },
  });
  let base: string;
  before(async () => {
    base = `127.0.0.1:${await server.listen(0, "127.0.0.1")}`;
  });
  after(() => server.close());

  it("serves /healthz, /livez, /readyz (the pods synced) and /metrics", async () => {
    const answer = async (path: string): Promise<[number, string]> => {
      const r = await fetch(`http://${base}${path}`);
      return [r.status, await r.text()];
    };
    assert.deepEqual(await answer("/healthz"), [200, "ok"]);
    assert.deepEqual(await answer("/livez"), [200, "ok"]);
    assert.deepEqual(await answer("/readyz"), [503, "not ready: pods: not synced"]);
    synced = true;
    assert.deepEqual(await answer("/readyz"), [200, "ok"]);
    assert.match((await answer("/metrics"))[1], /^kubelet_test_total 1$/m);
  });

  it("answers errors with a Status body", async () => {
    const res = await fetch(`http://${base}/containerLogs/default/missing/c`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pod "missing" not found on this node',
      reason: "NotFound",
      code: 404,
    });
    const bad = await fetch(`http://${base}/containerLogs/default/web/nope`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { message: string }).message, "container nope is not valid for pod web");
  });

  it("refuses an exec upgrade with the Status of what is wrong", async () => {
    await assert.rejects(
      dialWebSocket(`ws://${base}/exec/default/missing/c?command=sh`, [STREAM_PROTOCOL_V5]),
      (err: unknown) => isNotFound(err),
    );
    await assert.rejects(
      dialWebSocket(`ws://${base}/exec/default/web/c?command=sh`, ["v1.channel.k8s.io"]),
      (err: unknown) => err instanceof StatusError && err.code === 400 && /unsupported subprotocols/.test(err.message),
    );
  });

  it("runs an exec over v5.channel.k8s.io: stdin, stdout, CLOSE, and the exit code on the status channel", async () => {
    const { ws, protocol } = await dialWebSocket(`ws://${base}/exec/default/web/c?command=cat&stdin=true&stdout=true`, [
      STREAM_PROTOCOL_V5,
    ]);
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
});
