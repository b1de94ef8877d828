// The client libraries' streaming calls, unchanged, against kubeling's API server and a kubelet on
// real Docker (issue 12): the Python client (Debian's python3-kubernetes, /usr/bin/python3) and
// @kubernetes/client-node each run exec (output, stderr, the exit code from the status channel:
// upstream's NonZeroExitCode Status), port-forward over the WebSocket channel protocol
// (v4.channel.k8s.io: a byte round trip through an echo server in the pod) and logs (followed: a
// line written after the stream started arrives on it); Python also resumes an informer's watch
// from the last resourceVersion it saw (client-node's informer is in client-node.test.ts).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Exec, KubeConfig, Log, PortForward, type V1Status } from "@kubernetes/client-node";
import { StatusError } from "#pkg/api/errors.js";
import { NAMESPACES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { STREAM_PROTOCOL_V4, STREAM_PROTOCOL_V4_BASE64 } from "#pkg/streaming/protocols.js";
import { dialWebSocket } from "#pkg/streaming/websocket.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { BUSYBOX_IMAGE, ensureLocalImages } from "../harness/images.js";
import { cleanupCluster, docker, startKubelet, type TestKubelet, waitPod } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL("./clients", import.meta.url));
const NS = "streams";
const POD = "srv";

describe("client libraries: exec, port-forward, logs through the API server to a kubelet on Docker", () => {
  const cluster = `kl-streams-${randomUUID().slice(0, 8)}`;
  let api: TestApiServer;
  let kubelet: TestKubelet;
  let kc: KubeConfig;

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    api = await startApiServer();
    kubelet = await startKubelet({
      kubeconfigPath: api.kubeconfigPath,
      pki: api.pki,
      nodeName: "node-1",
      clusterName: cluster,
    });
    await api.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: POD, namespace: NS },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "srv",
            image: BUSYBOX_IMAGE,
            // An echo server on 7000; whatever is written to the fifo /tmp/log goes to the log.
            command: [
              "sh",
              "-c",
              "nc -ll -p 7000 -e cat & mkfifo /tmp/log && echo start && while true; do cat /tmp/log; done",
            ],
            readinessProbe: { tcpSocket: { port: 7000 }, periodSeconds: 1 },
          },
        ],
      },
    };
    await api.client.create(PODS, NS, pod);
    await waitPod(
      api.client,
      NS,
      POD,
      (p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
      { timeoutMs: 60_000, message: `pod ${POD} Ready` },
    );
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
  });

  after(async () => {
    await kubelet?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
  });

  test("the Python client: exec, port-forward, logs (followed), a resumed informer watch", async () => {
    const { stdout } = await run(
      "/usr/bin/python3",
      [join(SCRIPTS, "python-streams.py"), api.kubeconfigPath, NS, POD],
      { timeout: 90_000 },
    );
    const out = JSON.parse(stdout) as Record<string, unknown>;
    const [echoed, echoError, refusedClosed, refusedError] = out.portforward as [string, null, boolean, string];
    assert.deepEqual([echoed, echoError, refusedClosed], ["ping-py\n", null, true]);
    const uid = (await api.client.get<Pod>(PODS, NS, POD)).metadata.uid;
    assert.match(
      refusedError,
      new RegExp(`^error forwarding port 7001 to pod ${NS}/${POD}, uid ${uid}: .*ECONNREFUSED`),
    );
    assert.deepEqual(out, {
      exec: "out-py\n",
      exec_streams: ["out\n", "err\n", 3],
      exec_ok: 0,
      exec_stdin: ["from-py\n", 0],
      portforward: out.portforward,
      logs: "start",
      followed: ["start", "later-py"],
      informer: [
        [["ADDED", "inf-a"]],
        [
          ["MODIFIED", "inf-a", "2"],
          ["ADDED", "inf-b", "1"],
          ["DELETED", "inf-a", "2"],
        ],
      ],
    });
  });

  /** Text written to a PassThrough, as it accumulates. */
  const collect = (s: PassThrough) => {
    const c = { text: "" };
    s.on("data", (d: Buffer) => {
      c.text += d.toString();
    });
    return c;
  };

  /** client-node's Exec until its status arrives: stdout, stderr and the V1Status. */
  const nodeExec = async (command: string[], stdin: PassThrough | null = null) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out = collect(stdout);
    const err = collect(stderr);
    let status: V1Status | undefined;
    const ws = await new Exec(kc).exec(NS, POD, "srv", command, stdout, stderr, stdin, false, (s) => {
      status = s;
    });
    const got = await waitFor(() => status, { timeoutMs: 20_000, message: `exec ${command.join(" ")}` });
    ws.close();
    return { stdout: out.text, stderr: err.text, status: got };
  };

  test("client-node Exec: stdout, stderr, and the exit code as upstream's NonZeroExitCode Status", async () => {
    const failed = await nodeExec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(failed.stdout, "out\n");
    assert.equal(failed.stderr, "err\n");
    assert.equal(failed.status.status, "Failure");
    assert.equal(failed.status.reason, "NonZeroExitCode");
    assert.deepEqual(failed.status.details?.causes, [{ reason: "ExitCode", message: "3" }]);
    const ok = await nodeExec(["true"]);
    assert.equal(ok.status.status, "Success");
  });

  test("client-node Exec with stdin: its end is v5.channel.k8s.io's CLOSE, so cat sees EOF and exits", async () => {
    const stdin = new PassThrough();
    stdin.end("from-node\n");
    const cat = await nodeExec(["cat"], stdin);
    assert.equal(cat.stdout, "from-node\n");
    assert.equal(cat.status.status, "Success");
  });

  test("client-node PortForward: bytes round-trip through the pod's echo server", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const errors = new PassThrough();
    const got = collect(output);
    const errText = collect(errors);
    const ws = await new PortForward(kc).portForward(NS, POD, [7000], output, errors, input);
    try {
      input.write("ping-node\n");
      await waitFor(() => got.text === "ping-node\n", { timeoutMs: 20_000, message: `the echo: ${got.text}` });
      assert.equal(errText.text, "");
    } finally {
      (ws as { close(): void }).close();
    }
  });

  test("client-node Log: follow streams a line written after the stream started", async () => {
    const out = new PassThrough();
    const got = collect(out);
    const abort = await new Log(kc).log(NS, POD, "srv", out, { follow: true });
    try {
      await waitFor(() => got.text.startsWith("start\n"), { timeoutMs: 20_000, message: `start: ${got.text}` });
      const wrote = await nodeExec(["sh", "-c", "echo later-node > /tmp/log"]);
      assert.equal(wrote.status.status, "Success");
      await waitFor(() => got.text.includes("later-node\n"), { timeoutMs: 20_000, message: `followed: ${got.text}` });
    } finally {
      abort.abort();
    }
  });

  test("the channel protocol as sent through the API server: v4.base64 text messages pass both ways; a bad ?ports= is upstream's 400", async () => {
    const url = `${api.url.replace(/^http/, "ws")}/api/v1/namespaces/${NS}/pods/${POD}/portforward`;
    const o = { ca: api.caPem, headers: { authorization: `Bearer ${api.token}` } };
    const { ws, protocol } = await dialWebSocket(`${url}?ports=7000`, [STREAM_PROTOCOL_V4_BASE64], o);
    assert.equal(protocol, STREAM_PROTOCOL_V4_BASE64);
    const got: Array<[string, boolean]> = [];
    ws.on("message", (m: Buffer, isBinary: boolean) => got.push([m.toString(), isBinary]));
    try {
      ws.send(`0${Buffer.from("b64\n").toString("base64")}`);
      const data = () =>
        got
          .filter(([m]) => m[0] === "0")
          .map(([m]) => Buffer.from(m.slice(1), "base64"))
          .slice(1);
      await waitFor(() => Buffer.concat(data()).toString() === "b64\n", { timeoutMs: 20_000, message: "the echo" });
      // The port (7000 = 0x1b58, little-endian) opens both channels.
      assert.deepEqual(
        got.slice(0, 2).map(([m]) => [m[0], [...Buffer.from(m.slice(1), "base64")]]),
        [
          ["0", [0x58, 0x1b]],
          ["1", [0x58, 0x1b]],
        ],
      );
      assert.ok(
        got.every(([, isBinary]) => !isBinary),
        "text messages only",
      );
    } finally {
      ws.close();
    }
    await assert.rejects(
      dialWebSocket(`${url}?ports=x`, [STREAM_PROTOCOL_V4], o),
      (err: unknown) =>
        err instanceof StatusError &&
        err.code === 400 &&
        err.message === 'cannot convert to []int32: strconv.ParseUint: parsing "x": invalid syntax',
    );
  });
});
