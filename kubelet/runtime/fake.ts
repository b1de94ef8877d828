// FakeRuntime: an in-memory Runtime for unit tests of syncPod and for simulated nodes in
// benchmarks (pkg/kubelet/container/testing/fake_runtime.go in spirit). Containers change
// state only through the Runtime calls and the test helpers exit() and setImage().

import { PassThrough, type Readable } from "node:stream";
import { metaTime } from "#pkg/api/time.js";
import type { RegistryAuth } from "../credentials.js";
import type {
  AttachOptions,
  AttachSession,
  ContainerConfig,
  ContainerInfo,
  ContainerStats,
  ExecOptions,
  ExecSession,
  ImageInfo,
  LogOptions,
  Runtime,
  RuntimeEvent,
  SandboxConfig,
} from "./runtime.js";

const k8sNow = () => metaTime();

export class FakeRuntime implements Runtime {
  readonly containers = new Map<string, ContainerInfo>();
  /** Images present locally. */
  readonly images = new Set<string>();
  /** Images a pull would succeed for. */
  readonly pullable = new Set<string>();
  /** Registry users whose credentials a pull refuses (tests of trying each credential). */
  readonly refusedAuth = new Set<string>();
  /** Every call, in order, e.g. "create app web/c", "stop <id>". */
  readonly calls: string[] = [];
  /** The config each container was created with, by id. */
  readonly configs = new Map<string, ContainerConfig>();
  private seq = 0;

  async version(): Promise<string> {
    return "fake://1.0";
  }

  async ensureNetwork(): Promise<void> {}

  async list(): Promise<ContainerInfo[]> {
    return [...this.containers.values()].map((c) => ({ ...c }));
  }

  async imageStatus(image: string): Promise<ImageInfo | undefined> {
    return this.images.has(image) ? { id: `sha256:${image}`, repoDigests: [] } : undefined;
  }

  async pullImage(image: string, _signal?: AbortSignal, auth?: RegistryAuth): Promise<void> {
    this.calls.push(auth ? `pull ${image} as ${auth.username}@${auth.serveraddress}` : `pull ${image}`);
    if (auth && this.refusedAuth.has(auth.username)) throw new Error(`pulling image "${image}": unauthorized`);
    if (!this.pullable.has(image)) throw new Error(`pulling image "${image}": not found`);
    this.images.add(image);
  }

  private id(): string {
    this.seq++;
    return this.seq.toString(16).padStart(64, "0");
  }

  async runSandbox(cfg: SandboxConfig): Promise<{ id: string; ip: string }> {
    const id = this.id();
    const ip = `10.0.0.${this.seq % 250}`;
    this.calls.push(`sandbox ${cfg.podNamespace}/${cfg.podName}`);
    this.containers.set(id, {
      id,
      name: "POD",
      type: "sandbox",
      podUid: cfg.podUid,
      podName: cfg.podName,
      podNamespace: cfg.podNamespace,
      restartCount: cfg.attempt,
      hash: "",
      state: "running",
      createdAt: k8sNow(),
      startedAt: k8sNow(),
      image: cfg.image,
      imageId: `sha256:${cfg.image}`,
      ...(cfg.hostNetwork ? { hostNetwork: true } : { ip }),
    });
    return { id, ip };
  }

  async createContainer(cfg: ContainerConfig): Promise<string> {
    const id = this.id();
    this.calls.push(`create ${cfg.type} ${cfg.podName}/${cfg.name} #${cfg.restartCount}`);
    this.configs.set(id, cfg);
    this.containers.set(id, {
      id,
      name: cfg.name,
      type: cfg.type,
      podUid: cfg.podUid,
      podName: cfg.podName,
      podNamespace: cfg.podNamespace,
      restartCount: cfg.restartCount,
      hash: cfg.hash,
      state: "created",
      createdAt: k8sNow(),
      image: cfg.image,
      imageId: `sha256:${cfg.image}`,
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    this.calls.push(`start ${c.podName}/${c.name}`);
    c.state = "running";
    c.startedAt = k8sNow();
  }

  async stopContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c?.state !== "running") return;
    this.calls.push(`stop ${c.podName}/${c.name}`);
    this.exit(id, 143);
  }

  async removeContainer(id: string): Promise<void> {
    if (this.containers.delete(id)) this.calls.push(`remove ${id}`);
  }

  /** exit simulates the container's process ending with a code. */
  exit(id: string, code: number): void {
    const c = this.containers.get(id);
    if (!c) return;
    c.state = "exited";
    c.exitCode = code;
    c.reason = code === 0 ? "Completed" : "Error";
    c.finishedAt = k8sNow();
  }

  async logs(_id: string, _o: LogOptions): Promise<Readable> {
    const s = new PassThrough();
    s.end();
    return s;
  }

  async exec(_id: string, _o: ExecOptions): Promise<ExecSession> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end();
    stderr.end();
    return { stdout, stderr, resize: async () => {}, wait: async () => 0, close: () => {} };
  }

  async attach(_id: string, _o: AttachOptions): Promise<AttachSession> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end();
    stderr.end();
    return { stdout, stderr, resize: async () => {}, wait: async () => {}, close: () => {} };
  }

  async execSync(): Promise<{ exitCode: number; output: string }> {
    return { exitCode: 0, output: "" };
  }

  async stats(): Promise<Map<string, ContainerStats>> {
    return new Map();
  }

  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }
}
