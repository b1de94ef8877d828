// The local-path provisioner (the idea of rancher's local-path-provisioner, which k3s and kind
// ship), as a controller of kubeling-controller-manager: it is the external provisioner of the
// class `standard` (provisioner kubeling.io/local-path, WaitForFirstConsumer, reclaim Delete).
//
// - Provisioning: a claim the PV binder handed to this provisioner (the
//   volume.kubernetes.io/storage-provisioner annotation) and the scheduler gave a node (the
//   volume.kubernetes.io/selected-node annotation) gets a directory
//   <root-dir>/local-path/pvc-<uid>_<namespace>_<claim> on that node, made by a helper pod the
//   node's kubelet runs (helper-pod.ts), then a PersistentVolume pvc-<uid> with a hostPath source
//   on it, node affinity to that node's kubernetes.io/hostname, the claim's size, access modes and
//   volumeMode, the class's reclaim policy and mount options, pv.kubernetes.io/provisioned-by and
//   a claimRef pre-binding it to the claim (as sig-storage-lib-external-provisioner does); the
//   binder then binds the two. A node publishes its kubelet --root-dir in the Node annotation
//   kubeling.io/kubelet-root-dir (pkg/api/node-annotations.ts; the kubelet sets it at registration).
// - Deleting: a volume of this provisioner that the binder Released with reclaim policy Delete
//   has its directory removed by a helper pod on its node, then the PV object is deleted. Retain
//   keeps both.
// - The class: at start the provisioner creates `standard` if no class of that name exists, and
//   never changes it afterwards (an addon manager's EnsureExists): the cluster has a default
//   class from the start with no manual step, and one an administrator edited or replaced stays
//   as they left it. It lives here because the class is meaningless without its provisioner.
//
// Events as the external provisioner's: Provisioning, ProvisioningSucceeded, ProvisioningFailed
// on the claim; VolumeFailedDelete on the volume.

import { isAlreadyExists, isNotFound } from "#pkg/api/errors.js";
import { keyFor, keyOf, splitKey } from "#pkg/api/keys.js";
import { ANN_KUBELET_ROOT_DIR } from "#pkg/api/node-annotations.js";
import { bytes } from "#pkg/api/quantity.js";
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STORAGECLASSES } from "#pkg/api/resources.js";
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "#pkg/api/types/index.js";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_DEFAULT_STORAGE_CLASS,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  BINDING_WAIT_FOR_FIRST_CONSUMER,
  claimClass,
  READ_WRITE_ONCE,
  READ_WRITE_ONCE_POD,
  RECLAIM_DELETE,
  VOLUME_MODE_BLOCK,
  VOLUME_MODE_FILESYSTEM,
  VOLUME_RELEASED,
} from "#pkg/api/types/storage.js";
import { type Informer, objectOf } from "#pkg/cache/informer.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../../controller.js";
import {
  HELPER_CLAIM_ANNOTATION,
  HELPER_LABEL,
  HELPER_VOLUME_ANNOTATION,
  type HelperAction,
  helperPod,
  helperPodName,
  isProvisionedDir,
  volumeDir,
} from "./helper-pod.js";

export const NAME = "local-path-provisioner";
/** The StorageClass provisioner name, and the events' source.component. */
export const PROVISIONER = "kubeling.io/local-path";
export const DEFAULT_STORAGE_CLASS = "standard";
export const DEFAULT_HELPER_IMAGE = "kubeling.local/busybox:latest";
export const HELPER_NAMESPACE = "kube-system";
/** A helper pod not finished by then is given up and tried again (rancher's default is 120 s). */
export const DEFAULT_HELPER_TIMEOUT_MS = 120_000;
const HOSTNAME_LABEL = "kubernetes.io/hostname";
/** Upstream's addon-manager label: create when absent, never reconcile. */
const ADDON_MODE_LABEL = "addonmanager.kubernetes.io/mode";

export interface LocalPathProvisionerOptions {
  /** --local-path-helper-image: the image of the helper pods (a busybox). */
  helperImage?: string;
  /** --local-path-storage-class: the class ensured at start ("" makes none). */
  storageClass?: string;
  helperTimeoutMs?: number;
}

/** The class this provisioner ensures exists at start. */
export function defaultStorageClass(name: string): StorageClass {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name,
      annotations: { [ANN_DEFAULT_STORAGE_CLASS]: "true" },
      labels: { [ADDON_MODE_LABEL]: "EnsureExists" },
    },
    provisioner: PROVISIONER,
    reclaimPolicy: RECLAIM_DELETE,
    volumeBindingMode: BINDING_WAIT_FOR_FIRST_CONSUMER,
  };
}

/** The node a local volume is on: the kubernetes.io/hostname value of its node affinity. */
export function volumeHostname(pv: PersistentVolume): string | undefined {
  for (const t of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [])
    for (const e of t.matchExpressions ?? [])
      if (e.key === HOSTNAME_LABEL && e.operator === "In" && e.values?.length === 1) return e.values[0];
  return undefined;
}

/** Why this provisioner cannot make a volume for the claim (undefined when it can). */
export function unsupported(claim: PersistentVolumeClaim): string | undefined {
  for (const m of claim.spec?.accessModes ?? [])
    if (m !== READ_WRITE_ONCE && m !== READ_WRITE_ONCE_POD)
      return "NodePath only supports ReadWriteOnce and ReadWriteOncePod access modes";
  if (claim.spec?.volumeMode === VOLUME_MODE_BLOCK) return "volumeMode Block is not supported";
  if (claim.spec?.resources?.requests?.storage === undefined) return "the claim requests no storage";
  return undefined;
}

const CLAIM_PREFIX = "claim:";
const VOLUME_PREFIX = "volume:";

export class LocalPathProvisioner implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #classes: Informer<StorageClass>;
  readonly #nodes: Informer<Node>;
  readonly #helpers: Informer<Pod>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #image: string;
  readonly #className: string;
  readonly #timeoutMs: number;

  constructor(ctx: ControllerContext, o: LocalPathProvisionerOptions = {}) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.#recorder = ctx.recorder(PROVISIONER);
    this.#clock = ctx.clock;
    this.#image = o.helperImage || DEFAULT_HELPER_IMAGE;
    this.#className = o.storageClass ?? DEFAULT_STORAGE_CLASS;
    this.#timeoutMs = o.helperTimeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
    this.queue = new WorkQueue({ name: NAME, clock: ctx.clock });
    this.#claims = ctx.informers.informer(PERSISTENTVOLUMECLAIMS);
    this.#volumes = ctx.informers.informer(PERSISTENTVOLUMES);
    this.#classes = ctx.informers.informer(STORAGECLASSES);
    this.#nodes = ctx.informers.informer(NODES);
    this.#helpers = ctx.informers.informer(PODS, { namespace: HELPER_NAMESPACE, labelSelector: HELPER_LABEL });

    const claim = (c: PersistentVolumeClaim) => this.queue.add(CLAIM_PREFIX + keyOf(c));
    const volume = (v: PersistentVolume) => this.queue.add(VOLUME_PREFIX + keyOf(v));
    this.#claims.on("add", claim);
    this.#claims.on("update", (_o, c) => claim(c));
    // A claim that goes before its volume was made takes its helper pod with it.
    this.#claims.on("delete", (c) => claim(objectOf(c)));
    this.#volumes.on("add", volume);
    this.#volumes.on("update", (_o, v) => volume(v));
    const helper = (p: Pod) => {
      const action = p.metadata.labels?.[HELPER_LABEL];
      const a = p.metadata.annotations ?? {};
      if (action === "create" && a[HELPER_CLAIM_ANNOTATION]) this.queue.add(CLAIM_PREFIX + a[HELPER_CLAIM_ANNOTATION]);
      if (action === "delete" && a[HELPER_VOLUME_ANNOTATION])
        this.queue.add(VOLUME_PREFIX + a[HELPER_VOLUME_ANNOTATION]);
    };
    this.#helpers.on("add", helper);
    this.#helpers.on("update", (_o, p) => helper(p));
    this.#helpers.on("delete", (p) => helper(objectOf(p)));
    // Claims that waited for their class (ours is made at start, after they were first seen).
    this.#classes.on("add", (sc) => {
      for (const c of this.#claims.list()) if (claimClass(c) === sc.metadata.name) claim(c);
    });
    // A node that publishes its root dir late lets its waiting claims go on.
    this.#nodes.on("update", (old, cur) => {
      if (old.metadata.annotations?.[ANN_KUBELET_ROOT_DIR] === cur.metadata.annotations?.[ANN_KUBELET_ROOT_DIR]) return;
      for (const c of this.#claims.list())
        if (c.metadata.annotations?.[ANN_SELECTED_NODE] === cur.metadata.name) claim(c);
    });
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ helperImage: this.#image }, "starting local-path provisioner");
    const synced = await waitForCacheSync(
      signal,
      this.#claims,
      this.#volumes,
      this.#classes,
      this.#nodes,
      this.#helpers,
    );
    if (!synced) return;
    await this.#ensureStorageClass(signal);
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  /** Creates the class when none of its name exists (retried until it is there or we stop). */
  async #ensureStorageClass(signal: AbortSignal): Promise<void> {
    const name = this.#className;
    if (!name || this.#classes.get(name)) return;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.#client.create(STORAGECLASSES, undefined, defaultStorageClass(name));
        this.#log.info({ name }, "created the default storage class");
        return;
      } catch (err) {
        if (isAlreadyExists(err)) return;
        this.#log.warn({ err, name, attempt }, "cannot create the default storage class; retrying");
        await this.#clock.sleep(Math.min(30_000, 500 * 2 ** attempt), signal);
      }
    }
  }

  async sync(key: string): Promise<void> {
    if (key.startsWith(CLAIM_PREFIX)) await this.syncClaim(key.slice(CLAIM_PREFIX.length));
    else if (key.startsWith(VOLUME_PREFIX)) await this.syncVolume(key.slice(VOLUME_PREFIX.length));
  }

  // ---------------------------------------------------------------- provisioning

  /** Makes the claim's volume when it is this provisioner's to make. Throws to be retried. */
  async syncClaim(key: string): Promise<void> {
    const claim = this.#claims.get(key);
    if (!claim || claim.spec?.volumeName || claim.metadata.deletionTimestamp) {
      await this.#removeHelper("create", key);
      return;
    }
    const a = claim.metadata.annotations ?? {};
    if ((a[ANN_STORAGE_PROVISIONER] ?? a[ANN_BETA_STORAGE_PROVISIONER]) !== PROVISIONER) return;
    const cls = this.#classes.get(claimClass(claim));
    if (!cls || cls.provisioner !== PROVISIONER) return;
    const pvName = `pvc-${claim.metadata.uid}`;
    const { namespace = "", name = "" } = claim.metadata;
    const log = this.#log.child({ namespace, name, volume: pvName });
    if (this.#volumes.get(pvName)) {
      // Made already; the binder binds it.
      await this.#removeHelper("create", key);
      return;
    }
    const fail = (message: string) =>
      this.#recorder.event(
        claim,
        "Warning",
        "ProvisioningFailed",
        `failed to provision volume with StorageClass "${cls.metadata.name}": ${message}`,
      );
    const nodeName = a[ANN_SELECTED_NODE];
    if (!nodeName) {
      // WaitForFirstConsumer: the scheduler names the node (and may take its choice back: a
      // helper started for it is not needed). Immediate: no node can be chosen for a node-local
      // directory, as rancher's.
      await this.#removeHelper("create", key, pvName);
      if (cls.volumeBindingMode !== BINDING_WAIT_FOR_FIRST_CONSUMER) fail("configuration error, no node was specified");
      return;
    }
    const why = unsupported(claim);
    if (why) {
      fail(why);
      return;
    }
    const node = this.#nodes.get(nodeName);
    const rootDir = node?.metadata.annotations?.[ANN_KUBELET_ROOT_DIR];
    if (!node || !rootDir) {
      const message = node
        ? `node "${nodeName}" does not publish its kubelet root directory (annotation ${ANN_KUBELET_ROOT_DIR})`
        : `nodes "${nodeName}" not found`;
      fail(message);
      throw new Error(message);
    }
    const path = volumeDir(rootDir, pvName, namespace, name);
    const done = await this.#runHelper("create", pvName, key, {
      nodeName,
      path,
      claim,
      onStart: () =>
        this.#recorder.event(
          claim,
          "Normal",
          "Provisioning",
          `External provisioner is provisioning volume for claim "${namespace}/${name}"`,
        ),
      onFail: fail,
    });
    if (!done) return;

    const pv = this.#volumeFor(claim, cls, pvName, node, path);
    try {
      await this.#client.create(PERSISTENTVOLUMES, undefined, pv);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        fail((err as Error).message);
        throw err;
      }
    }
    log.info({ node: nodeName, path }, "provisioned volume");
    this.#recorder.event(claim, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${pvName}`);
    await this.#removeHelper("create", key, pvName);
  }

  #volumeFor(
    claim: PersistentVolumeClaim,
    cls: StorageClass,
    pvName: string,
    node: Node,
    path: string,
  ): PersistentVolume {
    const hostname = node.metadata.labels?.[HOSTNAME_LABEL] ?? node.metadata.name ?? "";
    const storage = claim.spec?.resources?.requests?.storage ?? "0";
    return {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: pvName, annotations: { [ANN_DYNAMICALLY_PROVISIONED]: PROVISIONER } },
      spec: {
        capacity: { storage },
        accessModes: [...(claim.spec?.accessModes ?? [READ_WRITE_ONCE])],
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? RECLAIM_DELETE,
        storageClassName: cls.metadata.name ?? "",
        volumeMode: claim.spec?.volumeMode ?? VOLUME_MODE_FILESYSTEM,
        ...(cls.mountOptions?.length ? { mountOptions: [...cls.mountOptions] } : {}),
        claimRef: {
          kind: "PersistentVolumeClaim",
          apiVersion: "v1",
          namespace: claim.metadata.namespace ?? "",
          name: claim.metadata.name ?? "",
          uid: claim.metadata.uid ?? "",
          resourceVersion: claim.metadata.resourceVersion ?? "",
        },
        hostPath: { path, type: "DirectoryOrCreate" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: "In", values: [hostname] }] }],
          },
        },
      },
    };
  }

  // ---------------------------------------------------------------- deleting

  /** Removes a Released Delete volume of this provisioner: its directory, then the PV. */
  async syncVolume(name: string): Promise<void> {
    const pv = this.#volumes.get(name);
    if (
      !pv ||
      pv.metadata.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== PROVISIONER ||
      pv.spec?.persistentVolumeReclaimPolicy !== RECLAIM_DELETE ||
      pv.status?.phase !== VOLUME_RELEASED ||
      pv.metadata.deletionTimestamp
    ) {
      await this.#removeHelper("delete", name);
      return;
    }
    const fail = (message: string) => this.#recorder.event(pv, "Warning", "VolumeFailedDelete", message);
    const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path ?? "";
    if (!isProvisionedDir(path)) {
      // Not a directory this provisioner made: the PV goes, whatever it points at stays.
      this.#log.warn({ name, path }, "volume path is not a local-path directory; deleting the PV only");
    } else {
      const hostname = volumeHostname(pv);
      const node = this.#nodes
        .list()
        .find((n) => (n.metadata.labels?.[HOSTNAME_LABEL] ?? n.metadata.name) === hostname);
      if (!node?.metadata.name) {
        const message = `failed to delete volume ${name}: node "${hostname ?? ""}" not found`;
        fail(message);
        throw new Error(message);
      }
      const ref = pv.spec?.claimRef;
      const done = await this.#runHelper("delete", name, name, {
        nodeName: node.metadata.name,
        path,
        claimKey: keyFor(ref?.namespace, ref?.name ?? ""),
        onFail: (m) => fail(`failed to delete volume ${name}: ${m}`),
      });
      if (!done) return;
    }
    try {
      await this.#client.delete(PERSISTENTVOLUMES, undefined, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#log.info({ name, path }, "deleted volume");
    await this.#removeHelper("delete", name, name);
  }

  // ---------------------------------------------------------------- helper pods

  /**
   * Runs the action's helper pod for the volume and reports whether it has succeeded. Not yet:
   * the pod is created (or still running), and its updates enqueue the key again. Failed or
   * timed out: the pod is removed, onFail told, and an error thrown so that the key is retried
   * with backoff.
   */
  async #runHelper(
    action: HelperAction,
    pvName: string,
    key: string,
    o: {
      nodeName: string;
      path: string;
      claim?: PersistentVolumeClaim;
      claimKey?: string;
      onStart?: () => void;
      onFail: (message: string) => void;
    },
  ): Promise<boolean> {
    const podName = helperPodName(action, pvName);
    const pod = this.#helpers.get(keyFor(HELPER_NAMESPACE, podName));
    if (!pod) {
      const storage = o.claim?.spec?.resources?.requests?.storage;
      const spec = helperPod({
        action,
        pvName,
        nodeName: o.nodeName,
        path: o.path,
        namespace: HELPER_NAMESPACE,
        image: this.#image,
        claimKey: o.claim ? keyOf(o.claim) : (o.claimKey ?? ""),
        ...(storage !== undefined ? { sizeBytes: safeBytes(storage) } : {}),
        ...(o.claim?.spec?.volumeMode ? { volumeMode: o.claim.spec.volumeMode } : {}),
      });
      try {
        await this.#client.create(PODS, HELPER_NAMESPACE, spec);
      } catch (err) {
        if (!isAlreadyExists(err)) {
          o.onFail(`creating helper pod ${podName}: ${(err as Error).message}`);
          throw err;
        }
      }
      o.onStart?.();
      this.#log.debug({ pod: podName, node: o.nodeName, path: o.path, action }, "helper pod created");
      this.queue.addAfter(action === "create" ? CLAIM_PREFIX + key : VOLUME_PREFIX + key, this.#timeoutMs);
      return false;
    }
    if (pod.metadata.deletionTimestamp) return false;
    const phase = pod.status?.phase;
    if (phase === "Succeeded") return true;
    const started = Date.parse(pod.metadata.creationTimestamp ?? "") || this.#clock.now();
    const age = this.#clock.now() - started;
    if (phase === "Failed" || age >= this.#timeoutMs) {
      const why =
        phase === "Failed"
          ? `helper pod ${podName} failed${containerMessage(pod)}`
          : `helper pod ${podName} did not finish within ${Math.round(this.#timeoutMs / 1000)}s (phase ${phase ?? "Pending"})`;
      await this.#deletePod(podName);
      o.onFail(why);
      throw new Error(why);
    }
    // Still running: its updates (or the timeout) bring the key back.
    this.queue.addAfter(action === "create" ? CLAIM_PREFIX + key : VOLUME_PREFIX + key, this.#timeoutMs - age);
    return false;
  }

  /** Deletes the helper pod of the action for this key once its work is done (or moot). */
  async #removeHelper(action: HelperAction, key: string, pvName?: string): Promise<void> {
    let name = pvName;
    if (!name) {
      if (action === "delete") name = key;
      else {
        const { namespace = "", name: claim } = splitKey(key);
        const owner = this.#helpers
          .list()
          .find(
            (p) =>
              p.metadata.labels?.[HELPER_LABEL] === "create" &&
              p.metadata.annotations?.[HELPER_CLAIM_ANNOTATION] === keyFor(namespace, claim),
          );
        name = owner?.metadata.annotations?.[HELPER_VOLUME_ANNOTATION];
      }
    }
    if (!name) return;
    const podName = helperPodName(action, name);
    const pod = this.#helpers.get(keyFor(HELPER_NAMESPACE, podName));
    if (!pod || pod.metadata.deletionTimestamp) return;
    await this.#deletePod(podName);
  }

  async #deletePod(name: string): Promise<void> {
    try {
      await this.#client.delete(PODS, HELPER_NAMESPACE, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function safeBytes(q: string | number): number {
  try {
    return bytes(q);
  } catch {
    return 0;
  }
}

/** ": <reason>: <message>" of the helper container's termination, when it has one. */
function containerMessage(pod: Pod): string {
  const t = pod.status?.containerStatuses?.[0]?.state?.terminated;
  if (!t) return pod.status?.message ? `: ${pod.status.message}` : "";
  const parts = [t.reason, t.message, t.exitCode !== undefined ? `exit code ${t.exitCode}` : undefined].filter(Boolean);
  return parts.length ? `: ${parts.join(": ")}` : "";
}

export function newLocalPathProvisioner(ctx: ControllerContext): Controller {
  return new LocalPathProvisioner(ctx, ctx.options?.localPath ?? {});
}
