// kubectl attach and kubectl debug against a real kubelet on Docker, through the API server
// (issue 12): attach -it to a container made with stdin and a TTY (input typed, its output
// seen), attach -i to a stdinOnce container (closing stdin ends it), with kubectl 1.29 (plain
// SPDY/3.1) and 1.33 (WebSocket); kubectl 1.31 and 1.33 debug add an ephemeral container that
// runs in the target's PID namespace (ps shows the target's process), whose status goes
// running then terminated and is never restarted, and whose logs kubectl logs -c reads; the
// kubeling CLI describes them as kubectl does.

import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { PODS } from "#pkg/api/resources.js";
import type { ContainerStatus, Pod } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { BUSYBOX_IMAGE, ensureLocalImages } from "../harness/images.js";
import { KUBECTL_DIR, type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { cleanupCluster, docker, startKubelet, type TestKubelet } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";
import { runCli } from "./cli-helpers.js";

const bin = (minor: string) => `${KUBECTL_DIR}/kubectl.${minor}`;
/** The target's process, recognisable in another container's ps. */
const TARGET_CMD = "sleep 31415";

describe("kubectl attach and kubectl debug through the API server to the kubelet", () => {
  const cluster = `kl-dbg-${randomUUID().slice(0, 8)}`;
  let api: TestApiServer;
  let kubelet: TestKubelet;
  const children: ChildProcessWithoutNullStreams[] = [];

  /** One kubectl (its HOME and discovery cache) per version. */
  const kubectls = new Map<string, Kubectl>();
  const kubectl = (minor: string): Kubectl => {
    let k = kubectls.get(minor);
    if (!k) {
      k = kubectlFor(api.kubeconfigPath, { binary: bin(minor) });
      kubectls.set(minor, k);
    }
    return k;
  };
  /** kubectl to completion, stdin given (or closed at once). */
  const run = (minor: string, rest: string[], input = "") => kubectl(minor).run(rest, { input });

  /** kubectl under script(1): a pseudo-terminal, as an interactive shell gives it; output joined. */
  const interactive = (minor: string, rest: string[]) => {
    const quoted = [kubectl(minor).commandLine(), ...rest.map((a) => `'${a.replaceAll("'", "'\\''")}'`)].join(" ");
    const child = spawn("script", ["-qfec", quoted, "/dev/null"]);
    children.push(child);
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    return { child, out: () => out, exited };
  };

  const getPod = (name: string) => api.client.get<Pod>(PODS, "default", name);
  const ephemeralStatus = async (pod: string, name: string): Promise<ContainerStatus | undefined> =>
    (await getPod(pod)).status?.ephemeralContainerStatuses?.find((s) => s.name === name);

  const createPod = async (pod: Pod) => {
    await api.client.create(PODS, "default", pod);
    await waitFor(async () => (await getPod(pod.metadata.name ?? "")).status?.phase === "Running", {
      timeoutMs: 30_000,
      message: `pod ${pod.metadata.name} Running`,
    });
  };

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
    await createPod({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "target", namespace: "default" },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "app",
            image: BUSYBOX_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", `exec ${TARGET_CMD}`],
          },
          {
            name: "shell",
            image: BUSYBOX_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["sh"],
            stdin: true,
            tty: true,
          },
        ],
      },
    });
  });

  after(async () => {
    for (const c of children) c.kill("SIGKILL");
    for (const k of kubectls.values()) k.close();
    await kubelet?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
  });

  for (const minor of ["1.29", "1.33"]) {
    test(`kubectl ${minor} attach -it: what is typed reaches the container's shell, its output comes back`, async () => {
      const s = interactive(minor, ["attach", "-it", "target", "-c", "shell"]);
      await waitFor(() => s.out().includes("If you don't see a command prompt"), {
        timeoutMs: 20_000,
        message: `attach started: ${s.out()}`,
      });
      // Typed twice: the first line may reach the terminal before the session is up.
      const typed = () => s.child.stdin.write(`echo attached-$((6*7))-${minor}\r`);
      typed();
      const timer = setInterval(typed, 2000);
      try {
        await waitFor(() => new RegExp(`attached-42-${minor.replace(".", "\\.")}`).test(s.out()), {
          timeoutMs: 20_000,
          message: `the shell's answer: ${s.out()}`,
        });
      } finally {
        clearInterval(timer);
      }
      // Detaching leaves the container running (no stdinOnce).
      s.child.kill("SIGKILL");
      await s.exited;
      const shell = (await getPod("target")).status?.containerStatuses?.find((c) => c.name === "shell");
      assert.ok(shell?.state?.running, JSON.stringify(shell));
      assert.equal(shell?.restartCount, 0);
    });

    test(`kubectl ${minor} attach -i to a stdinOnce container: input in, output out, closing stdin ends it`, async () => {
      const name = `once-${minor.replace(".", "-")}`;
      await createPod({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default" },
        spec: {
          nodeName: "node-1",
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "cat",
              image: BUSYBOX_IMAGE,
              imagePullPolicy: "IfNotPresent",
              command: ["cat"],
              stdin: true,
              stdinOnce: true,
            },
          ],
        },
      });
      const r = await run(minor, ["attach", "-i", name, "-c", "cat"], "from-attach\n");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /from-attach\n/);
      await waitFor(async () => (await getPod(name)).status?.phase === "Succeeded", {
        timeoutMs: 20_000,
        message: `${name} Succeeded once cat read EOF`,
      });
    });
  }

  for (const minor of ["1.31", "1.33"]) {
    test(`kubectl ${minor} debug -it --target: a shell in the target's PID namespace; running, then terminated`, async () => {
      const name = `debugger-${minor.replace(".", "-")}`;
      const s = interactive(minor, [
        "debug",
        "-it",
        "target",
        `--image=${BUSYBOX_IMAGE}`,
        "--image-pull-policy=IfNotPresent",
        "--target=app",
        "-c",
        name,
        "--",
        "sh",
      ]);
      await waitFor(() => s.out().includes("If you don't see a command prompt"), {
        timeoutMs: 30_000,
        message: `debug attached: ${s.out()}`,
      });
      assert.ok((await ephemeralStatus("target", name))?.state?.running, "the debugger runs");
      const typed = () => s.child.stdin.write("ps -o pid,args; echo ps-$((40+2))-done\r");
      typed();
      const timer = setInterval(typed, 2000);
      try {
        await waitFor(() => /ps-42-done/.test(s.out()), { timeoutMs: 20_000, message: `ps ran: ${s.out()}` });
      } finally {
        clearInterval(timer);
      }
      // The target's process, seen from the debugger: the namespaces are shared.
      assert.match(s.out(), new RegExp(`\\d+ +${TARGET_CMD}`));
      s.child.stdin.write("exit\r");
      await s.exited;
      const st = await waitFor(
        async () => {
          const x = await ephemeralStatus("target", name);
          return x?.state?.terminated ? x : undefined;
        },
        { timeoutMs: 20_000, message: `${name} terminated` },
      );
      assert.equal(st.state?.terminated?.exitCode, 0);
      assert.equal(st.restartCount, 0);
      assert.equal(st.ready, false);
      const pod = await getPod("target");
      assert.equal(pod.status?.phase, "Running");
      assert.equal(pod.spec?.ephemeralContainers?.find((c) => c.name === name)?.targetContainerName, "app");
    });

    test(`kubectl ${minor} debug without -i, then kubectl logs -c the debugger`, async () => {
      const name = `lister-${minor.replace(".", "-")}`;
      const r = await run(minor, [
        "debug",
        "target",
        `--image=${BUSYBOX_IMAGE}`,
        "--image-pull-policy=IfNotPresent",
        "--target=app",
        "-c",
        name,
        "--",
        "sh",
        "-c",
        "ps -o pid,args",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const st = await waitFor(
        async () => {
          const x = await ephemeralStatus("target", name);
          return x?.state?.terminated ? x : undefined;
        },
        { timeoutMs: 30_000, message: `${name} ran to completion` },
      );
      assert.equal(st.state?.terminated?.reason, "Completed");
      const logs = await run(minor, ["logs", "target", "-c", name]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, new RegExp(`\\d+ +${TARGET_CMD}`));
      // Never restarted: the kubelet leaves it terminated (a resync later, still one run).
      const again = await ephemeralStatus("target", name);
      assert.equal(again?.restartCount, 0);
      assert.ok(again?.state?.terminated);
    });
  }

  test("kubeling describe pod prints the Ephemeral Containers as kubectl 1.33 does", async () => {
    const section = (out: string) => /\nEphemeral Containers:\n[\s\S]*?(?=\nConditions:)/.exec(out)?.[0] ?? "";
    const theirs = await run("1.33", ["describe", "pod", "target"]);
    assert.equal(theirs.code, 0, theirs.stderr);
    const ours = await runCli([`--kubeconfig=${api.kubeconfigPath}`, "describe", "pod", "target"]);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(section(theirs.stdout), /debugger-1-31:/);
    assert.equal(section(ours.stdout), section(theirs.stdout));
  });
});
