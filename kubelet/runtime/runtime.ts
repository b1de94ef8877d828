// The container runtime interface the kubelet programs against (pkg/kubelet/container/runtime.go
// in spirit). The Docker implementation (docker.ts) is the only code that imports dockerode;
// everything above it speaks in sandboxes and containers identified by Kubernetes labels, so a
// restarted kubelet can rebuild its whole state from a single list().

import type { Duplex, Readable } from "node:stream";
import type { RegistryAuth } from "../credentials.js";

/** Labels on every Docker object kubeling makes (dockershim's keys plus ours). */
export const LABEL_CLUSTER = "kubeling.io/cluster";
export const LABEL_NODE = "kubeling.io/node";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";
export const LABEL_RESTART_COUNT = "io.kubernetes.container.restartCount";
export const LABEL_CONTAINER_HASH = "io.kubernetes.container.hash";
/** "sandbox", "init", "app" or "ephemeral". */
export const LABEL_CONTAINER_TYPE = "kubeling.io/container-type";
export const LABEL_TERMINATION_GRACE = "io.kubernetes.pod.terminationGracePeriod";
export const SANDBOX_CONTAINER_NAME = "POD";
/** On sandboxes of hostNetwork pods (their IP is the node's). */
export const LABEL_HOST_NETWORK = "kubeling.io/host-network";

export type ContainerType = "sandbox" | "init" | "app" | "ephemeral";
/** The kinds of a pod's own containers (all but the sandbox). */
export type PodContainerType = Exclude<ContainerType, "sandbox">;
export type ContainerState = "created" | "running" | "exited" | "unknown";

/** ContainerInfo is one runtime container as the kubelet sees it, rebuilt from Docker's labels and inspect data. */
export interface ContainerInfo {
  id: string;
  /** Kubernetes container name, "POD" for the sandbox. */
  name: string;
  type: ContainerType;
  podUid: string;
  podName: string;
  podNamespace: string;
  restartCount: number;
  hash: string;
  state: ContainerState;
  exitCode?: number;
  /** "OOMKilled", "Error", "Completed". */
  reason?: string;
  /** ISO timestamps (second precision, as Kubernetes writes them). */
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
  image: string;
  imageId: string;
  /** The sandbox's IP on the cluster network. */
  ip?: string;
  /** A sandbox in the host's network namespace (spec.hostNetwork). */
  hostNetwork?: boolean;
}

export interface SandboxConfig {
  podUid: string;
  podName: string;
  podNamespace: string;
  attempt: number;
  hostname: string;
  image: string;
  /** hostPort bindings, exposed on the sandbox that owns the network namespace. */
  portBindings: { containerPort: number; hostPort: number; protocol: "TCP" | "UDP" | "SCTP"; hostIP?: string }[];
  terminationGraceSeconds: number;
  /** resolv.conf of the pod (shared by its containers); undefined keeps Docker's default. */
  dns?: { servers: string[]; searches: string[]; options: string[] };
  /** Extra /etc/hosts entries ("name:ip"), from spec.hostAliases. */
  extraHosts?: string[];
  /** spec.hostNetwork: the pod shares the node's network namespace. */
  hostNetwork?: boolean;
}

export interface ContainerConfig {
  podUid: string;
  podName: string;
  podNamespace: string;
  name: string;
  type: PodContainerType;
  restartCount: number;
  hash: string;
  sandboxId: string;
  image: string;
  /** Entrypoint override (Kubernetes `command`) and arguments (`args`); undefined keeps the image's. */
  command?: string[];
  args?: string[];
  env: string[];
  workingDir?: string;
  tty: boolean;
  stdin: boolean;
  /** Close the container's stdin once the first attached client detaches (Kubernetes stdinOnce). */
  stdinOnce?: boolean;
  /** Join this container's PID namespace (an ephemeral container's targetContainerName). */
  pidContainerId?: string;
  nanoCpus?: number;
  memoryBytes?: number;
  terminationGraceSeconds: number;
  /** Docker bind specs "hostPath:containerPath[:ro]" for the container's volumeMounts. */
  binds?: string[];
}

export interface ImageInfo {
  id: string;
  repoDigests: string[];
}

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  timestamps: boolean;
  sinceSeconds?: number;
  signal?: AbortSignal;
}

export interface ExecOptions {
  cmd: string[];
  stdin: boolean;
  tty: boolean;
}

/** ExecSession is a running exec: stdin/stdout/stderr streams, resize, and the exit code when done. */
export interface ExecSession {
  stdin?: NodeJS.WritableStream;
  stdout: Readable;
  stderr: Readable;
  resize(width: number, height: number): Promise<void>;
  /** Resolves with the exit code once the process has ended and its output has been read. */
  wait(): Promise<number>;
  /** Tear down the connection to the process. */
  close(): void;
}

export interface AttachOptions {
  stdin: boolean;
  tty: boolean;
}

/**
 * AttachSession: the streams of a running container's main process (kubectl attach). wait()
 * resolves when the stream ends: the process exited or the session was closed.
 */
export interface AttachSession {
  stdin?: NodeJS.WritableStream;
  stdout: Readable;
  stderr: Readable;
  resize(width: number, height: number): Promise<void>;
  wait(): Promise<void>;
  close(): void;
}

/** ContainerStats: cumulative CPU time and the memory working set of one container. */
export interface ContainerStats {
  cpuUsageCoreNanoSeconds: number;
  memoryWorkingSetBytes: number;
}

export interface RuntimeEvent {
  containerId: string;
  action: string;
  podUid?: string;
}

/**
 * Runtime is everything the kubelet needs from a container engine. Implementations only see and
 * touch objects labelled with their cluster and node.
 */
export interface Runtime {
  /** "docker://20.10.24" */
  version(): Promise<string>;
  /** Create the cluster network if missing. Idempotent. */
  ensureNetwork(): Promise<void>;
  /** All containers (sandboxes included) of this cluster and node. */
  list(): Promise<ContainerInfo[]>;
  /** Local image lookup; undefined when not present. */
  imageStatus(image: string): Promise<ImageInfo | undefined>;
  /** Pull an image (with the registry's credentials, when given); throws with the registry's message on failure. */
  pullImage(image: string, signal?: AbortSignal, auth?: RegistryAuth): Promise<void>;
  /** Create and start a sandbox; returns its id and IP. */
  runSandbox(cfg: SandboxConfig): Promise<{ id: string; ip: string }>;
  createContainer(cfg: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after graceSeconds. A missing or stopped container is not an error. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Remove (forcefully). A missing container is not an error. */
  removeContainer(id: string): Promise<void>;
  logs(id: string, opts: LogOptions): Promise<Readable>;
  exec(id: string, opts: ExecOptions): Promise<ExecSession>;
  /** Attach to the container's main process (its stdin only if it was created with one open). */
  attach(id: string, opts: AttachOptions): Promise<AttachSession>;
  /** Run a command to completion (exec probes); output is truncated. */
  execSync(id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** Resource usage of running containers (missing ids had no readable stats). */
  stats(ids: string[]): Promise<Map<string, ContainerStats>>;
  /** Container lifecycle events of this cluster and node until the signal aborts. */
  events(signal: AbortSignal): AsyncIterable<RuntimeEvent>;
}

export type { Duplex };
