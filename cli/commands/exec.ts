// kubeling exec: a WebSocket to .../pods/NAME/exec speaking v5.channel.k8s.io (KUBECTL_WIRE
// 3.2; framing in pkg/streaming): byte 0 of each binary message is the channel (0 stdin,
// 1 stdout, 2 stderr, 3 status, 4 resize, 255 close). The remote exit code becomes ours.

import { WebSocket } from "ws";
import type { Status } from "#pkg/api/errors.js";
import { PODS, resourcePath } from "#pkg/api/resources.js";
import { Channel, frame, parseFrame, STREAM_PROTOCOL_V5 } from "#pkg/streaming/protocols.js";
import type { CliContext } from "../context.js";
import { CliError, SilentExit } from "../errors.js";
import { chooseContainer, resolvePod } from "./pods.js";

/** Exit code carried by the status channel: 0 for Success, the ExitCode cause otherwise. */
export function exitCodeFromStatus(st: Partial<Status>): { code: number; message?: string } {
  if (st.status === "Success") return { code: 0 };
  if (st.reason === "NonZeroExitCode") {
    const cause = st.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = Number(cause?.message ?? "1");
    return {
      code: Number.isNaN(code) ? 1 : code,
      message: `command terminated with exit code ${cause?.message ?? code}`,
    };
  }
  return { code: 1, message: `error: ${st.message ?? "exec failed"}` };
}

export async function runExec(
  ctx: CliContext,
  podArg: string,
  command: string[],
  o: { container?: string; stdin?: boolean; tty?: boolean },
): Promise<number> {
  if (command.length === 0) throw new CliError("error: you must specify at least one command for the container");
  const pod = await resolvePod(ctx, podArg);
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    throw new CliError(`error: cannot exec into a container in a completed pod; current phase is ${phase}`);
  }
  const container = chooseContainer(ctx, pod, o.container);
  const stdinStream = ctx.io.in as NodeJS.ReadStream;
  let tty = Boolean(o.tty);
  if (tty && !(o.stdin && stdinStream.isTTY)) {
    if (o.stdin) ctx.printErr("Unable to use a TTY - input is not a terminal or the right kind of file\n");
    tty = false;
  }
  const query: Record<string, string | string[]> = { command, container, stdout: "true" };
  if (o.stdin) query.stdin = "true";
  if (tty) query.tty = "true";
  else query.stderr = "true";
  const path = resourcePath(PODS, pod.metadata.namespace, pod.metadata.name, "exec");
  const { ws } = await ctx.client.upgrade(path, [STREAM_PROTOCOL_V5], { query });
  const stdout = ctx.io.out as NodeJS.WriteStream;
  let restoreTty: (() => void) | undefined;

  const code = await new Promise<number>((resolve, reject) => {
    let result: { code: number; message?: string } | undefined;
    ws.on("error", (err) => reject(err));
    const ping = setInterval(() => ws.ping(), 5000);
    ping.unref();
    if (tty) {
      const sendSize = () => {
        const size = { Width: stdout.columns ?? 80, Height: stdout.rows ?? 24 };
        ws.send(frame(Channel.Resize, JSON.stringify(size)));
      };
      sendSize();
      stdout.on("resize", sendSize);
      stdinStream.setRawMode?.(true);
      restoreTty = () => {
        stdinStream.setRawMode?.(false);
        stdout.off("resize", sendSize);
      };
    }
    if (o.stdin) {
      stdinStream.on("data", (chunk: Buffer | string) => ws.send(frame(Channel.Stdin, chunk)));
      stdinStream.on("end", () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(frame(Channel.Close, Buffer.from([Channel.Stdin])));
      });
      stdinStream.resume();
    }
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const f = parseFrame(isBinary ? data : Buffer.from(data));
      if (!f) return;
      const { channel, payload } = f;
      if (channel === Channel.Stdout) ctx.io.out.write(payload);
      else if (channel === Channel.Stderr) ctx.io.err.write(payload);
      else if (channel === Channel.Error && payload.length > 0) {
        try {
          result = exitCodeFromStatus(JSON.parse(payload.toString("utf8")) as Partial<Status>);
        } catch {
          result = { code: 1, message: `error: ${payload.toString("utf8")}` };
        }
      }
    });
    ws.on("close", () => {
      clearInterval(ping);
      restoreTty?.();
      if (o.stdin) stdinStream.pause();
      if (result?.message) ctx.printErr(`${result.message}\n`);
      resolve(result?.code ?? 0);
    });
  });
  if (code !== 0) throw new SilentExit(code);
  return 0;
}
