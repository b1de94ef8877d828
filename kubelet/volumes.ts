// VolumeManager: a pod's volumes as host directories under <root-dir>/pods/<uid>/volumes/<name>,
// bind-mounted into its containers. emptyDir is a directory; hostPath is the host path itself;
// a persistentVolumeClaim is its bound PV's hostPath or local path (the claim and the PV are
// read with GETs, which the Node authorizer allows for the claims of the node's pods and their
// PVs, as upstream's desired-state populator does), read-only when the pod's volume says so;
// configMap, secret, downwardAPI and projected volumes (bound ServiceAccount tokens from the
// TokenManager included) are written with upstream's atomic-writer
// layout (a timestamped data dir, a "..data" symlink swapped with rename, and per-key symlinks
// into it), so a container sees a changed ConfigMap all at once. setup() is idempotent and is
// called on every syncPod, which is how mounted files follow ConfigMap/Secret updates; the
// objects come from the kubelet's watch-based managers, never from a GET per sync.
// The paths are host paths handed to Docker: a kubelet running in a container needs its
// --root-dir mounted at the same path.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join, normalize } from "node:path";
import { podServiceAccountName } from "#pkg/api/pod-references.js";
import {
  CLAIM_BOUND,
  type ConfigMap,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  PVC_PROTECTION_FINALIZER,
  type Secret,
  type Volume,
} from "#pkg/api/types/index.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { fieldRefValue } from "./spec.js";
import type { TokenManager } from "./token-manager.js";

/** A file to project into a volume: relative path, content, mode. */
interface Projected {
  path: string;
  data: Buffer;
  mode: number;
}

export class VolumeError extends Error {}

/**
 * PodVolumesError: volumes that could not be processed (a claim not bound, its PV not there),
 * worded as upstream's WaitForAttachAndMount error; the kubelet's FailedMount event is
 * "Unable to attach or mount volumes: " + message.
 */
export class PodVolumesError extends VolumeError {
  constructor(
    readonly volumes: readonly string[],
    readonly causes: readonly string[],
  ) {
    const names = `[${[...volumes].sort().join(" ")}]`;
    super(
      `unmounted volumes=${names}, unattached volumes=[], failed to process volumes=${names}: ${causes.join("; ")}`,
    );
  }
}

export interface VolumeManagerOptions {
  rootDir: string;
  log: Logger;
  /** ConfigMaps and Secrets of a namespace by name; undefined when they do not exist. */
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** A PersistentVolumeClaim and a PersistentVolume by name (GETs); undefined when they do not exist. */
  claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume(name: string): Promise<PersistentVolume | undefined>;
  /** Bound ServiceAccount tokens for serviceAccountToken projections. */
  tokens: TokenManager;
  clock?: Clock;
}

export class VolumeManager {
  /** uid → volume name → host path, from the last setup (upstream: GetMountedVolumesForPod). */
  private readonly mountedByPod = new Map<string, Map<string, string>>();
  /** uid → the volumes every container mounts read-only (a persistentVolumeClaim's readOnly). */
  private readonly readOnlyByPod = new Map<string, Set<string>>();
  /** uid/volume → hash of what was last written, so unchanged volumes are not rewritten. */
  private readonly written = new Map<string, string>();

  constructor(private readonly o: VolumeManagerOptions) {}

  podDir(uid: string): string {
    return join(this.o.rootDir, "pods", uid);
  }

  /**
   * setup makes every volume of the pod exist with current contents and returns the host path
   * of each, by volume name. Throws VolumeError (with upstream-like wording) when a source is
   * missing and not optional.
   */
  async setup(pod: Pod, podIP: string, hostIP: string): Promise<Map<string, string>> {
    const uid = pod.metadata.uid ?? "";
    const out = new Map<string, string>();
    // Claims first: until each is bound to a PV there is nothing to mount, and the pod waits.
    const claims = await this.claimVolumes(pod);
    const readOnly = new Set<string>();
    for (const v of pod.spec?.volumes ?? []) {
      const dir = join(this.podDir(uid), "volumes", v.name);
      if (v.hostPath) {
        out.set(v.name, await this.hostPath(v.hostPath));
        continue;
      }
      const claimed = claims.get(v.name);
      if (claimed) {
        out.set(v.name, await this.persistentVolumePath(v.name, claimed));
        if (v.persistentVolumeClaim?.readOnly) readOnly.add(v.name);
        continue;
      }
      if (v.emptyDir) {
        await mkdir(dir, { recursive: true, mode: 0o777 });
        await chmod(dir, 0o777);
        out.set(v.name, dir);
        continue;
      }
      const files = await this.filesFor(pod, v, podIP, hostIP);
      if (files === undefined) {
        // An unknown or unsupported type: an empty directory keeps the pod running.
        await mkdir(dir, { recursive: true });
        out.set(v.name, dir);
        continue;
      }
      await this.atomicWrite(`${uid}/${v.name}`, dir, files);
      out.set(v.name, dir);
    }
    this.mountedByPod.set(uid, out);
    this.readOnlyByPod.set(uid, readOnly);
    return out;
  }

  /** readOnly: the pod's volumes that are mounted read-only into every container, from the last setup. */
  readOnly(uid: string): ReadonlySet<string> {
    return this.readOnlyByPod.get(uid) ?? new Set();
  }

  /**
   * claimVolumes resolves each persistentVolumeClaim volume to its claim's bound PV (upstream
   * desired_state_of_world_populator getPVCExtractPV / getPVSpec, with its messages); throws
   * PodVolumesError naming every volume that cannot be processed yet.
   */
  private async claimVolumes(pod: Pod): Promise<Map<string, PersistentVolume>> {
    const ns = pod.metadata.namespace ?? "default";
    const out = new Map<string, PersistentVolume>();
    const failed: string[] = [];
    const causes: string[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      const claimName = v.persistentVolumeClaim?.claimName;
      if (!claimName) continue;
      try {
        out.set(v.name, await this.boundVolume(ns, claimName));
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        failed.push(v.name);
        causes.push(err.message);
      }
    }
    if (failed.length > 0) throw new PodVolumesError(failed, causes);
    return out;
  }

  private async boundVolume(ns: string, claimName: string): Promise<PersistentVolume> {
    const fail = (why: string) => new VolumeError(`error processing PVC ${ns}/${claimName}: ${why}`);
    let pvc: PersistentVolumeClaim | undefined;
    try {
      pvc = await this.o.claim(ns, claimName);
    } catch (err) {
      throw fail(`failed to fetch PVC from API server: ${(err as Error).message}`);
    }
    if (!pvc) throw fail(`failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`);
    // A claim being deleted without its protection finalizer must not be used by a new pod.
    if (pvc.metadata.deletionTimestamp && !pvc.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER))
      throw fail("PVC is being deleted");
    if (pvc.status?.phase !== CLAIM_BOUND) throw fail("PVC is not bound");
    const pvName = pvc.spec?.volumeName;
    if (!pvName) throw fail("PVC has empty pvc.Spec.VolumeName");
    let pv: PersistentVolume | undefined;
    try {
      pv = await this.o.persistentVolume(pvName);
    } catch (err) {
      throw fail(`failed to fetch PV ${pvName} from API server: ${(err as Error).message}`);
    }
    if (!pv) throw fail(`failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`);
    const ref = pv.spec?.claimRef;
    if (!ref) {
      throw fail(
        `found PV object ${pvName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`,
      );
    }
    if (ref.uid !== pvc.metadata.uid) {
      throw fail(
        `found PV object ${pvName} but its pv.Spec.ClaimRef.UID ${ref.uid ?? ""} does not point to claim.UID ${pvc.metadata.uid ?? ""}`,
      );
    }
    return pv;
  }

  /** The host path of a bound PV: hostPath (with its type's checks and creation), or local (must exist). */
  private async persistentVolumePath(volumeName: string, pv: PersistentVolume): Promise<string> {
    const name = pv.metadata.name ?? "";
    if (pv.spec?.hostPath) return this.hostPath(pv.spec.hostPath);
    if (pv.spec?.local) {
      const path = normalize(pv.spec.local.path);
      const st = await lstat(path).catch(() => undefined);
      if (!st)
        throw new VolumeError(
          `MountVolume.NewMounter initialization failed for volume "${name}" : path "${path}" does not exist`,
        );
      return path;
    }
    throw new VolumeError(
      `volume "${volumeName}": PersistentVolume "${name}" has a source this kubelet cannot mount (hostPath and local only)`,
    );
  }

  /** mounted: the host path of each of the pod's volumes, by name, from the last setup. */
  mounted(uid: string): Map<string, string> {
    return this.mountedByPod.get(uid) ?? new Map();
  }

  /** cleanup removes everything the pod had on disk. */
  async cleanup(uid: string): Promise<void> {
    for (const k of this.written.keys()) if (k.startsWith(`${uid}/`)) this.written.delete(k);
    this.o.tokens.forgetPod(uid);
    this.mountedByPod.delete(uid);
    this.readOnlyByPod.delete(uid);
    await rm(this.podDir(uid), { recursive: true, force: true });
  }

  /** podUids: pods that have a directory (to find leftovers of pods that are gone). */
  async podUids(): Promise<string[]> {
    try {
      return await readdir(join(this.o.rootDir, "pods"));
    } catch {
      return [];
    }
  }

  private async hostPath(hp: { path: string; type?: string }): Promise<string> {
    const path = normalize(hp.path);
    const type = hp.type ?? "";
    if (type === "DirectoryOrCreate") await mkdir(path, { recursive: true, mode: 0o755 });
    else if (type === "FileOrCreate") {
      await mkdir(dirname(path), { recursive: true });
      if (!existsSync(path)) await writeFile(path, "", { mode: 0o644 });
    } else if (type === "Directory" || type === "File") {
      const st = await lstat(path).catch(() => undefined);
      if (!st) throw new VolumeError(`hostPath type check failed: ${path} does not exist`);
      if (type === "Directory" && !st.isDirectory())
        throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
      if (type === "File" && !st.isFile()) throw new VolumeError(`hostPath type check failed: ${path} is not a file`);
    }
    return path;
  }

  /** The files of a configMap/secret/downwardAPI/projected volume; undefined for other types. */
  private async filesFor(pod: Pod, v: Volume, podIP: string, hostIP: string): Promise<Projected[] | undefined> {
    const ns = pod.metadata.namespace ?? "default";
    const keyed = (
      all: Map<string, Buffer>,
      items: { key: string; path: string; mode?: number }[] | undefined,
      mode: number,
      what: string,
      optional: boolean,
    ): Projected[] => {
      if (!items?.length) return [...all].map(([k, data]) => ({ path: k, data, mode }));
      const out: Projected[] = [];
      for (const it of items) {
        const data = all.get(it.key);
        if (!data) {
          if (optional) continue;
          throw new VolumeError(`configuration error: key "${it.key}" not found in ${what}`);
        }
        out.push({ path: it.path, data, mode: it.mode ?? mode });
      }
      return out;
    };
    const cmData = (cm: ConfigMap | undefined) =>
      new Map<string, Buffer>([
        ...Object.entries(cm?.data ?? {}).map(([k, s]) => [k, Buffer.from(s)] as [string, Buffer]),
        ...Object.entries(cm?.binaryData ?? {}).map(([k, s]) => [k, Buffer.from(s, "base64")] as [string, Buffer]),
      ]);
    const secretData = (s: Secret | undefined) =>
      new Map<string, Buffer>([
        ...Object.entries(s?.data ?? {}).map(([k, d]) => [k, Buffer.from(d, "base64")] as [string, Buffer]),
        ...Object.entries(s?.stringData ?? {}).map(([k, d]) => [k, Buffer.from(d)] as [string, Buffer]),
      ]);
    const downward = (
      items: { path: string; fieldRef?: { fieldPath: string }; mode?: number }[] | undefined,
      mode: number,
    ) =>
      (items ?? [])
        .filter((it) => it.fieldRef)
        .map((it) => ({
          path: it.path,
          data: Buffer.from(fieldRefValue(pod, it.fieldRef?.fieldPath ?? "", { podIP, hostIP })),
          mode: it.mode ?? mode,
        }));

    if (v.configMap) {
      const name = v.configMap.name ?? "";
      const cm = await this.o.configMap(ns, name);
      if (!cm && !v.configMap.optional) throw new VolumeError(`configmap "${name}" not found`);
      return keyed(
        cmData(cm),
        v.configMap.items,
        v.configMap.defaultMode ?? 0o644,
        `ConfigMap ${ns}/${name}`,
        !!v.configMap.optional,
      );
    }
    if (v.secret) {
      const name = v.secret.secretName ?? "";
      const s = await this.o.secret(ns, name);
      if (!s && !v.secret.optional) throw new VolumeError(`secret "${name}" not found`);
      return keyed(
        secretData(s),
        v.secret.items,
        v.secret.defaultMode ?? 0o644,
        `Secret ${ns}/${name}`,
        !!v.secret.optional,
      );
    }
    if (v.downwardAPI) return downward(v.downwardAPI.items, v.downwardAPI.defaultMode ?? 0o644);
    if (v.projected) {
      const mode = v.projected.defaultMode ?? 0o644;
      const out: Projected[] = [];
      for (const src of v.projected.sources ?? []) {
        if (src.configMap) {
          const name = src.configMap.name ?? "";
          const cm = await this.o.configMap(ns, name);
          if (!cm && !src.configMap.optional) throw new VolumeError(`configmap "${name}" not found`);
          out.push(
            ...keyed(cmData(cm), src.configMap.items, mode, `ConfigMap ${ns}/${name}`, !!src.configMap.optional),
          );
        } else if (src.secret) {
          const name = src.secret.name ?? "";
          const s = await this.o.secret(ns, name);
          if (!s && !src.secret.optional) throw new VolumeError(`secret "${name}" not found`);
          out.push(...keyed(secretData(s), src.secret.items, mode, `Secret ${ns}/${name}`, !!src.secret.optional));
        } else if (src.downwardAPI) out.push(...downward(src.downwardAPI.items, mode));
        else if (src.serviceAccountToken) {
          const t = src.serviceAccountToken;
          const token = await this.o.tokens
            .token(
              {
                namespace: ns,
                name: pod.metadata.name ?? "",
                uid: pod.metadata.uid ?? "",
                serviceAccountName: podServiceAccountName(pod),
              },
              t,
            )
            .catch((err: unknown) => {
              throw new VolumeError(`volume "${v.name}": ${(err as Error).message}`);
            });
          out.push({ path: t.path, data: Buffer.from(token), mode });
        }
      }
      return out;
    }
    return undefined;
  }

  /** atomicWrite: upstream's AtomicWriter layout; a no-op when the content did not change. */
  private async atomicWrite(key: string, dir: string, files: Projected[]): Promise<void> {
    const h = createHash("sha256");
    for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
      h.update(f.path).update("\0").update(String(f.mode)).update("\0").update(f.data).update("\0");
    }
    const digest = h.digest("hex");
    if (this.written.get(key) === digest && existsSync(join(dir, "..data"))) return;
    for (const f of files) {
      const n = normalize(f.path);
      if (n.startsWith("..") || n.startsWith("/")) throw new VolumeError(`invalid path "${f.path}" in volume`);
    }
    await mkdir(dir, { recursive: true });
    const ts = `..${new Date((this.o.clock ?? realClock).now()).toISOString().replace(/[-:.]/g, "_")}_${digest.slice(0, 8)}`;
    const dataDir = join(dir, ts);
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    for (const f of files) {
      const p = join(dataDir, f.path);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.data, { mode: f.mode });
      await chmod(p, f.mode);
    }
    const tmpLink = join(dir, "..data_tmp");
    await rm(tmpLink, { force: true });
    await symlink(ts, tmpLink);
    const old = await readlink(join(dir, "..data")).catch(() => undefined);
    await rename(tmpLink, join(dir, "..data"));
    // User-visible top-level names point into ..data.
    const tops = new Set(files.map((f) => normalize(f.path).split("/")[0] ?? ""));
    for (const t of tops) {
      if (!t) continue;
      const link = join(dir, t);
      const cur = await readlink(link).catch(() => undefined);
      if (cur !== join("..data", t)) {
        await rm(link, { recursive: true, force: true });
        await symlink(join("..data", t), link);
      }
    }
    for (const entry of await readdir(dir)) {
      if (entry === "..data" || entry === ts) continue;
      if (entry.startsWith("..") || !tops.has(entry)) {
        if (entry === old || entry.startsWith("..") || (await lstat(join(dir, entry))).isSymbolicLink())
          await rm(join(dir, entry), { recursive: true, force: true });
      }
    }
    this.written.set(key, digest);
  }
}
