// The helper pods of the local-path provisioner (the design of rancher's local-path-provisioner):
// a short busybox pod pinned to the volume's node (spec.nodeName, every taint tolerated) with a
// hostPath volume on the node's <kubelet root-dir>/local-path, which makes or removes one
// volume's directory under it. The node's kubelet mounts the parent (creating it if need be) and
// runs the pod, so the directories are made and removed by the node itself, under its root dir:
// no other component writes into a kubelet's files, and a kubelet in a container (compose) works
// as one on the host.

import { basename, dirname, posix } from "node:path";
import type { Pod } from "#pkg/api/types/index.js";

/** The directory under a kubelet's --root-dir that holds the provisioned volumes. */
export const LOCAL_PATH_DIR = "local-path";
/** Labels and annotations that tie a helper pod to its claim or volume. */
export const HELPER_LABEL = "kubeling.io/local-path-helper";
export const HELPER_CLAIM_ANNOTATION = "kubeling.io/local-path-claim";
export const HELPER_VOLUME_ANNOTATION = "kubeling.io/local-path-volume";
/** Where the parent directory is mounted in the helper's container. */
const MOUNT = "/data";

export type HelperAction = "create" | "delete";

/** A volume's directory: <root-dir>/local-path/<pv>_<namespace>_<claim>, as rancher names them. */
export function volumeDir(rootDir: string, pvName: string, namespace: string, claim: string): string {
  return posix.join(rootDir, LOCAL_PATH_DIR, `${pvName}_${namespace}_${claim}`);
}

/**
 * A volume directory the provisioner may remove: directly under a "local-path" directory, named
 * as volumeDir names them. Anything else (a hand-made PV pointing elsewhere) is left alone.
 */
export function isProvisionedDir(path: string): boolean {
  const norm = posix.normalize(path);
  if (norm !== path || !posix.isAbsolute(path)) return false;
  return basename(dirname(path)) === LOCAL_PATH_DIR && /^pvc-[0-9a-z-]+_[^/]+_[^/]+$/.test(basename(path));
}

export interface HelperPodOptions {
  action: HelperAction;
  pvName: string;
  /** The node that holds (or will hold) the directory. */
  nodeName: string;
  /** The volume's directory on the node. */
  path: string;
  namespace: string;
  image: string;
  /** The claim it is for ("<namespace>/<name>"). */
  claimKey: string;
  /** Bytes and mode, told to the script as rancher's helpers are (VOL_SIZE_BYTES, VOL_MODE). */
  sizeBytes?: number;
  volumeMode?: string;
}

/** rancher's names: helper-pod-create-<pv> and helper-pod-delete-<pv>. */
export function helperPodName(action: HelperAction, pvName: string): string {
  return `helper-pod-${action}-${pvName}`;
}

export function helperPod(o: HelperPodOptions): Pod {
  const dir = posix.join(MOUNT, basename(o.path));
  const script = o.action === "create" ? 'set -e; mkdir -m 0777 -p "$VOL_DIR"' : 'set -e; rm -rf "$VOL_DIR"';
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: helperPodName(o.action, o.pvName),
      namespace: o.namespace,
      labels: { "app.kubernetes.io/name": "local-path-helper", [HELPER_LABEL]: o.action },
      annotations: { [HELPER_CLAIM_ANNOTATION]: o.claimKey, [HELPER_VOLUME_ANNOTATION]: o.pvName },
    },
    spec: {
      nodeName: o.nodeName,
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      // A node tainted NoSchedule still has its volumes made and removed.
      tolerations: [{ operator: "Exists" }],
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: "helper",
          image: o.image,
          imagePullPolicy: "IfNotPresent",
          command: ["sh", "-c", script],
          env: [
            { name: "VOL_DIR", value: dir },
            { name: "VOL_MODE", value: o.volumeMode ?? "Filesystem" },
            { name: "VOL_SIZE_BYTES", value: String(o.sizeBytes ?? 0) },
          ],
          volumeMounts: [{ name: "data", mountPath: MOUNT }],
        },
      ],
      volumes: [{ name: "data", hostPath: { path: dirname(o.path), type: "DirectoryOrCreate" } }],
    },
  };
}
