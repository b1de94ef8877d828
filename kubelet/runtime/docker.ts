// DockerRuntime: the Runtime on a Docker engine through dockerode (the only dockerode import in
// kubeling). One bridge network per cluster; one sandbox ("pause") container per pod that owns
// the network namespace; app containers join it with NetworkMode container:<sandbox>. Every
// object carries the cluster and node labels, and every query filters on them, so several
// kubelets (and several test clusters) can share one engine without seeing each other.

import { readFile } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import Docker from "dockerode";
import { metaTime } from "#pkg/api/time.js";
import type { Logger } from "#pkg/runtime/log.js";
import { sleep } from "#pkg/runtime/wait.js";
import type { RegistryAuth } from "../credentials.js";
import {
  type AttachOptions,
  type AttachSession,
  type ContainerConfig,
  type ContainerInfo,
  type ContainerState,
  type ContainerStats,
  type ContainerType,
  type ExecOptions,
  type ExecSession,
  type ImageInfo,
  LABEL_CLUSTER,
  LABEL_CONTAINER_HASH,
  LABEL_CONTAINER_NAME,
  LABEL_CONTAINER_TYPE,
  LABEL_HOST_NETWORK,
  LABEL_NODE,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  LABEL_RESTART_COUNT,
  LABEL_TERMINATION_GRACE,
  type LogOptions,
  type Runtime,
  type RuntimeEvent,
  SANDBOX_CONTAINER_NAME,
  type SandboxConfig,
} from "./runtime.js";

export interface DockerRuntimeOptions {
  clusterName: string;
  nodeName: string;
  log: Logger;
  /** Defaults to the local socket (DOCKER_HOST is honoured by dockerode). */
  docker?: Docker;
  /** Give up on a pull after this long (no registry is reachable on our machines). */
  pullTimeoutMs?: number;
}

interface InspectCacheEntry {
  state: string;
  info: ContainerInfo;
}

/** toK8sTime turns Docker's nanosecond RFC 3339 into Kubernetes' second precision; zero time → undefined. */
export function toK8sTime(t: string | undefined): string | undefined {
  if (!t || t.startsWith("0001-01-01")) return undefined;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return undefined;
  return metaTime(d);
}

/** containerName builds dockershim's name: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>. */
export function containerName(container: string, pod: string, ns: string, uid: string, attempt: number): string {
  return `k8s_${container}_${pod}_${ns}_${uid}_${attempt}`;
}

function statusCode(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "statusCode" in err
    ? (err as { statusCode?: number }).statusCode
    : undefined;
}

function errMessage(err: unknown): string {
  if (typeof err === "object" && err !== null && "json" in err) {
    const j = (err as { json?: { message?: string } }).json;
    if (j?.message) return j.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export class DockerRuntime implements Runtime {
  readonly docker: Docker;
  readonly clusterName: string;
  /** The cluster network by id: a name can be briefly ambiguous (see ensureNetwork). */
  private networkId: string | undefined;
  readonly nodeName: string;
  private readonly log: Logger;
  private readonly pullTimeoutMs: number;
  private readonly inspectCache = new Map<string, InspectCacheEntry>();

  constructor(o: DockerRuntimeOptions) {
    this.docker = o.docker ?? new Docker();
    this.clusterName = o.clusterName;
    this.nodeName = o.nodeName;
    this.log = o.log.child({ module: "docker" });
    this.pullTimeoutMs = o.pullTimeoutMs ?? 60_000;
  }

  private labelFilters(): string[] {
    return [`${LABEL_CLUSTER}=${this.clusterName}`, `${LABEL_NODE}=${this.nodeName}`];
  }

  async version(): Promise<string> {
    const v = await this.docker.version();
    return `docker://${v.Version}`;
  }

  async ensureNetwork(): Promise<void> {
    const named = async () =>
      (await this.docker.listNetworks({ filters: { name: [this.clusterName] } })).filter(
        (n) => n.Name === this.clusterName,
      );
    let nets = await named();
    if (nets.length === 0) {
      try {
        await this.docker.createNetwork({
          Name: this.clusterName,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: { [LABEL_CLUSTER]: this.clusterName },
        });
        this.log.info({ network: this.clusterName }, "created cluster network");
      } catch (err) {
        // Another kubelet of the same cluster may have created it at the same moment.
        if (statusCode(err) !== 409)
          throw new Error(`creating network ${this.clusterName}: ${errMessage(err)}`, { cause: err });
      }
      nets = await named();
    }
    // Docker's duplicate-name check is best effort: two kubelets starting together can each create
    // a network of this name, and the name is then ambiguous. Every kubelet's list holds every
    // network created before its own, so all agree on the oldest; the others are removed.
    nets.sort((a, b) => (a.Created ?? "").localeCompare(b.Created ?? "") || a.Id.localeCompare(b.Id));
    const [keep, ...extra] = nets;
    if (!keep) throw new Error(`network ${this.clusterName} vanished right after it was created`);
    for (const n of extra) {
      await this.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
      this.log.info({ network: this.clusterName, id: n.Id }, "removed a duplicate cluster network");
    }
    this.networkId = keep.Id;
  }

  async list(): Promise<ContainerInfo[]> {
    const items = await this.docker.listContainers({ all: true, filters: { label: this.labelFilters() } });
    const seen = new Set<string>();
    const out: ContainerInfo[] = [];
    await Promise.all(
      items.map(async (c) => {
        seen.add(c.Id);
        const cached = this.inspectCache.get(c.Id);
        // Exited containers never change again and a running one only once: inspect on a state change only.
        if (cached && cached.state === c.State) {
          out.push(cached.info);
          return;
        }
        try {
          const info = await this.inspectInfo(c.Id);
          if (info) {
            this.inspectCache.set(c.Id, { state: c.State, info });
            out.push(info);
          }
        } catch (err) {
          if (statusCode(err) !== 404) throw err;
        }
      }),
    );
    for (const id of this.inspectCache.keys()) if (!seen.has(id)) this.inspectCache.delete(id);
    return out;
  }

  private async inspectInfo(id: string): Promise<ContainerInfo | undefined> {
    const d = await this.docker.getContainer(id).inspect();
    const labels = d.Config.Labels ?? {};
    const uid = labels[LABEL_POD_UID];
    if (!uid) return undefined;
    const st = d.State;
    let state: ContainerState = "unknown";
    if (st.Running || st.Restarting || st.Paused) state = "running";
    else if (st.Status === "created") state = "created";
    else if (st.Status === "exited" || st.Status === "dead") state = "exited";
    const ip = d.NetworkSettings?.Networks?.[this.clusterName]?.IPAddress || undefined;
    const info: ContainerInfo = {
      id: d.Id,
      name: labels[LABEL_CONTAINER_NAME] ?? "",
      type: (labels[LABEL_CONTAINER_TYPE] as ContainerType | undefined) ?? "app",
      podUid: uid,
      podName: labels[LABEL_POD_NAME] ?? "",
      podNamespace: labels[LABEL_POD_NAMESPACE] ?? "",
      restartCount: Number(labels[LABEL_RESTART_COUNT] ?? "0") || 0,
      hash: labels[LABEL_CONTAINER_HASH] ?? "",
      state,
      createdAt: toK8sTime(d.Created),
      startedAt: toK8sTime(st.StartedAt),
      finishedAt: state === "exited" ? toK8sTime(st.FinishedAt) : undefined,
      image: d.Config.Image,
      imageId: d.Image,
      ip,
      ...(labels[LABEL_HOST_NETWORK] === "true" ? { hostNetwork: true } : {}),
    };
    if (state === "exited") {
      info.exitCode = st.ExitCode;
      info.reason = st.OOMKilled ? "OOMKilled" : st.ExitCode === 0 ? "Completed" : "Error";
    }
    return info;
  }

  async imageStatus(image: string): Promise<ImageInfo | undefined> {
    try {
      const i = await this.docker.getImage(image).inspect();
      return { id: i.Id, repoDigests: i.RepoDigests ?? [] };
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  async pullImage(image: string, signal?: AbortSignal, auth?: RegistryAuth): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.pullTimeoutMs);
    const onAbort = () => abort.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      // authconfig becomes Docker's X-Registry-Auth header.
      const stream = (await this.docker.pull(image, {
        abortSignal: abort.signal,
        ...(auth ? { authconfig: auth } : {}),
      })) as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
          if (err) return reject(err);
          const bad = (output as { error?: string }[]).find((o) => o.error);
          if (bad?.error) return reject(new Error(bad.error));
          resolve();
        });
      });
    } catch (err) {
      if (abort.signal.aborted) throw new Error(`pulling image "${image}": timed out or aborted`);
      throw new Error(`pulling image "${image}": ${errMessage(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private baseLabels(podUid: string, podName: string, ns: string, name: string, type: ContainerType) {
    return {
      [LABEL_CLUSTER]: this.clusterName,
      [LABEL_NODE]: this.nodeName,
      [LABEL_POD_NAMESPACE]: ns,
      [LABEL_POD_NAME]: podName,
      [LABEL_POD_UID]: podUid,
      [LABEL_CONTAINER_NAME]: name,
      [LABEL_CONTAINER_TYPE]: type,
    };
  }

  /** create, removing a leftover container of ours with the same name (a crash between create and label bookkeeping). */
  private async createNamed(opts: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer(opts);
    } catch (err) {
      if (statusCode(err) !== 409 || !opts.name) throw err;
      const old = await this.docker.getContainer(opts.name).inspect();
      if (old.Config.Labels?.[LABEL_CLUSTER] !== this.clusterName) throw err;
      await this.docker.getContainer(old.Id).remove({ force: true });
      return await this.docker.createContainer(opts);
    }
  }

  async runSandbox(cfg: SandboxConfig): Promise<{ id: string; ip: string }> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
    for (const p of cfg.portBindings) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      bindings[key] = [...(bindings[key] ?? []), { HostIp: p.hostIP ?? "", HostPort: String(p.hostPort) }];
    }
    const name = containerName(SANDBOX_CONTAINER_NAME, cfg.podName, cfg.podNamespace, cfg.podUid, cfg.attempt);
    const c = await this.createNamed({
      name,
      Image: cfg.image,
      ...(cfg.hostNetwork ? {} : { Hostname: cfg.hostname.slice(0, 63) }),
      Labels: {
        ...this.baseLabels(cfg.podUid, cfg.podName, cfg.podNamespace, SANDBOX_CONTAINER_NAME, "sandbox"),
        [LABEL_RESTART_COUNT]: String(cfg.attempt),
        [LABEL_TERMINATION_GRACE]: String(cfg.terminationGraceSeconds),
        ...(cfg.hostNetwork ? { [LABEL_HOST_NETWORK]: "true" } : {}),
      },
      ...(cfg.hostNetwork ? {} : { ExposedPorts: exposed }),
      HostConfig: {
        NetworkMode: cfg.hostNetwork ? "host" : (this.networkId ?? this.clusterName),
        Init: true,
        ...(cfg.hostNetwork ? {} : { PortBindings: bindings }),
        IpcMode: "shareable",
        ...(cfg.dns ? { Dns: cfg.dns.servers, DnsSearch: cfg.dns.searches, DnsOptions: cfg.dns.options } : {}),
        ...(cfg.extraHosts?.length ? { ExtraHosts: cfg.extraHosts } : {}),
      },
    });
    await c.start();
    const d = await c.inspect();
    const ip = d.NetworkSettings?.Networks?.[this.clusterName]?.IPAddress ?? "";
    return { id: d.Id, ip };
  }

  async createContainer(cfg: ContainerConfig): Promise<string> {
    const name = containerName(cfg.name, cfg.podName, cfg.podNamespace, cfg.podUid, cfg.restartCount);
    const opts: Docker.ContainerCreateOptions = {
      name,
      Image: cfg.image,
      Env: cfg.env,
      WorkingDir: cfg.workingDir,
      Tty: cfg.tty,
      OpenStdin: cfg.stdin,
      // stdinOnce: Docker closes stdin once the first attached client detaches.
      StdinOnce: cfg.stdin && cfg.stdinOnce === true,
      Labels: {
        ...this.baseLabels(cfg.podUid, cfg.podName, cfg.podNamespace, cfg.name, cfg.type),
        [LABEL_RESTART_COUNT]: String(cfg.restartCount),
        [LABEL_CONTAINER_HASH]: cfg.hash,
        [LABEL_TERMINATION_GRACE]: String(cfg.terminationGraceSeconds),
      },
      HostConfig: {
        NetworkMode: `container:${cfg.sandboxId}`,
        IpcMode: `container:${cfg.sandboxId}`,
        ...(cfg.pidContainerId ? { PidMode: `container:${cfg.pidContainerId}` } : {}),
        // docker-init as PID 1 forwards SIGTERM, so graceful stops do not wait the full grace (PERF B2).
        Init: true,
        ...(cfg.binds?.length ? { Binds: cfg.binds } : {}),
        ...(cfg.nanoCpus ? { NanoCpus: cfg.nanoCpus } : {}),
        ...(cfg.memoryBytes ? { Memory: cfg.memoryBytes } : {}),
      },
    };
    // Kubernetes semantics: `command` replaces the entrypoint (and drops the image's CMD), `args` replaces CMD.
    if (cfg.command && cfg.command.length > 0) {
      opts.Entrypoint = cfg.command;
      opts.Cmd = cfg.args ?? [];
    } else if (cfg.args && cfg.args.length > 0) {
      opts.Cmd = cfg.args;
    }
    const c = await this.createNamed(opts);
    return c.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.floor(graceSeconds)) });
    } catch (err) {
      const code = statusCode(err);
      if (code !== 304 && code !== 404) throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const code = statusCode(err);
      // 409: removal already in progress.
      if (code !== 404 && code !== 409) throw err;
    }
    this.inspectCache.delete(id);
  }

  async logs(id: string, opts: LogOptions): Promise<Readable> {
    const c = this.docker.getContainer(id);
    const d = await c.inspect();
    const base = {
      stdout: true,
      stderr: true,
      timestamps: opts.timestamps,
      ...(opts.tailLines !== undefined ? { tail: opts.tailLines } : {}),
      ...(opts.sinceSeconds !== undefined ? { since: Math.floor(Date.now() / 1000) - opts.sinceSeconds } : {}),
    };
    const out = new PassThrough();
    if (opts.follow) {
      const stream = (await c.logs({ ...base, follow: true })) as unknown as NodeJS.ReadableStream & {
        destroy(): void;
      };
      if (d.Config.Tty) stream.pipe(out);
      else {
        this.docker.modem.demuxStream(stream, out, out);
        stream.on("end", () => out.end());
      }
      stream.on("error", (err: Error) => out.destroy(err));
      const stop = () => stream.destroy();
      opts.signal?.addEventListener("abort", stop, { once: true });
      out.on("close", stop);
      return out;
    }
    const buf = (await c.logs({ ...base, follow: false })) as unknown as Buffer;
    out.end(d.Config.Tty ? buf : demuxBuffer(buf));
    return out;
  }

  /**
   * The output of a hijacked exec or attach stream: a TTY's is one raw stream, otherwise Docker
   * multiplexes stdout and stderr; `ended` once the stream is over (ended, closed or failed).
   */
  #split(
    stream: NodeJS.ReadableStream,
    tty: boolean,
  ): { stdout: PassThrough; stderr: PassThrough; ended: Promise<void> } {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (tty) stream.pipe(stdout);
    else this.docker.modem.demuxStream(stream, stdout, stderr);
    const ended = new Promise<void>((resolve) => {
      let done = false;
      const fin = () => {
        if (done) return;
        done = true;
        stdout.end();
        stderr.end();
        resolve();
      };
      // `on`, not `once`: a second error must still find a listener.
      stream.on("end", fin);
      stream.on("close", fin);
      stream.on("error", fin);
    });
    return { stdout, stderr, ended };
  }

  async exec(id: string, o: ExecOptions): Promise<ExecSession> {
    const c = this.docker.getContainer(id);
    const exec = await c.exec({
      Cmd: o.cmd,
      AttachStdin: o.stdin,
      AttachStdout: true,
      AttachStderr: !o.tty,
      Tty: o.tty,
    });
    const stream = (await exec.start({ hijack: true, stdin: o.stdin, Tty: o.tty })) as NodeJS.ReadWriteStream & {
      destroy(): void;
      end(): void;
    };
    const { stdout, stderr, ended } = this.#split(stream, o.tty);
    return {
      stdin: o.stdin ? stream : undefined,
      stdout,
      stderr,
      resize: async (w, h) => {
        await exec.resize({ w, h }).catch(() => undefined);
      },
      wait: async () => {
        await ended;
        // The exec may still be reported running for a moment after its stream ended.
        for (let i = 0; i < 50; i++) {
          const s = await exec.inspect();
          if (!s.Running) return s.ExitCode ?? 0;
          await sleep(20);
        }
        return (await exec.inspect()).ExitCode ?? 0;
      },
      close: () => stream.destroy(),
    };
  }

  async attach(id: string, o: AttachOptions): Promise<AttachSession> {
    const c = this.docker.getContainer(id);
    const tty = (await c.inspect()).Config.Tty === true;
    const stream = (await c.attach({
      stream: true,
      stdin: o.stdin,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as NodeJS.ReadWriteStream & { destroy(): void; end(): void };
    const { stdout, stderr, ended } = this.#split(stream, tty);
    return {
      stdin: o.stdin ? stream : undefined,
      stdout,
      stderr,
      resize: async (w, h) => {
        await c.resize({ w, h }).catch(() => undefined);
      },
      wait: () => ended,
      close: () => stream.destroy(),
    };
  }

  async execSync(id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const s = await this.exec(id, { cmd, stdin: false, tty: false });
    let output = "";
    const collect = (b: Buffer) => {
      if (output.length < 10_240) output += b.toString("utf8");
    };
    s.stdout.on("data", collect);
    s.stderr.on("data", collect);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        s.close();
        reject(new Error(`command timed out after ${timeoutMs}ms`));
      }, timeoutMs);
    });
    try {
      const exitCode = await Promise.race([s.wait(), timeout]);
      return { exitCode, output };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * stats reads cgroup v1 files directly (microseconds, PERF C4) for the cgroupfs and systemd
   * layouts, and falls back to one-shot Docker stats in parallel where no file is readable
   * (e.g. a containerized kubelet without the host's /sys/fs/cgroup).
   */
  async stats(ids: string[]): Promise<Map<string, ContainerStats>> {
    const out = new Map<string, ContainerStats>();
    await Promise.all(
      ids.map(async (id) => {
        for (const [cpu, mem] of [
          [`/sys/fs/cgroup/cpuacct/docker/${id}`, `/sys/fs/cgroup/memory/docker/${id}`],
          [
            `/sys/fs/cgroup/cpuacct/system.slice/docker-${id}.scope`,
            `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope`,
          ],
        ] as const) {
          try {
            const [usage, memUsage, memStat] = await Promise.all([
              readFile(`${cpu}/cpuacct.usage`, "utf8"),
              readFile(`${mem}/memory.usage_in_bytes`, "utf8"),
              readFile(`${mem}/memory.stat`, "utf8"),
            ]);
            const inactive = Number(/^total_inactive_file (\d+)$/m.exec(memStat)?.[1] ?? 0);
            out.set(id, {
              cpuUsageCoreNanoSeconds: Number(usage.trim()),
              memoryWorkingSetBytes: Math.max(0, Number(memUsage.trim()) - inactive),
            });
            return;
          } catch {
            // try the next layout
          }
        }
        try {
          const s = (await this.docker
            .getContainer(id)
            .stats({ stream: false, "one-shot": true } as { stream: false })) as {
            cpu_stats?: { cpu_usage?: { total_usage?: number } };
            memory_stats?: { usage?: number; stats?: { total_inactive_file?: number } };
          };
          out.set(id, {
            cpuUsageCoreNanoSeconds: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
            memoryWorkingSetBytes: Math.max(
              0,
              (s.memory_stats?.usage ?? 0) - (s.memory_stats?.stats?.total_inactive_file ?? 0),
            ),
          });
        } catch {
          // gone meanwhile
        }
      }),
    );
    return out;
  }

  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    const stream = (await this.docker.getEvents({
      filters: { type: ["container"], label: this.labelFilters() },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const stop = () => stream.destroy();
    signal.addEventListener("abort", stop, { once: true });
    let buf = "";
    try {
      for await (const chunk of stream) {
        buf += chunk.toString();
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          nl = buf.indexOf("\n");
          if (!line) continue;
          try {
            const ev = JSON.parse(line) as {
              id?: string;
              Action?: string;
              Actor?: { Attributes?: Record<string, string> };
            };
            if (ev.id && ev.Action) {
              yield { containerId: ev.id, action: ev.Action, podUid: ev.Actor?.Attributes?.[LABEL_POD_UID] };
            }
          } catch {
            // A malformed line: ignore it, the relist is the safety net.
          }
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }
}

/** demuxBuffer strips Docker's 8-byte stream headers from a non-TTY log buffer (stdout and stderr interleaved). */
export function demuxBuffer(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off + 4);
    parts.push(buf.subarray(off + 8, off + 8 + len));
    off += 8 + len;
  }
  return Buffer.concat(parts);
}
