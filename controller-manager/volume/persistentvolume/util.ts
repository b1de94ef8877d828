// What the PV binder decides with, beyond pkg/volume/pv-helpers.ts (upstream's
// pkg/controller/volume/persistentvolume/util, shared with the scheduler's VolumeBinding): the
// binder's index over access modes (upstream index.go findBestMatchForClaim) and the checks a
// user's pre-binding by claim.spec.volumeName must pass (checkVolumeSatisfyClaim).

import type { Node, PersistentVolume, PersistentVolumeClaim } from "#pkg/api/types/index.js";
import { claimClass, volumeClass } from "#pkg/api/types/storage.js";
import {
  checkAccessModes,
  checkNodeAffinity,
  claimRequest,
  findMatchingVolume,
  isVolumeBoundToClaim,
  volumeCapacity,
  volumeModeMismatch,
} from "#pkg/volume/pv-helpers.js";

export { isVolumeBoundToClaim };

/** upstream CheckNodeAffinity: a volume without required node affinity fits every node. */
export function volumeFitsNode(volume: PersistentVolume, node: Node): boolean {
  return checkNodeAffinity(volume, node);
}

/**
 * upstream checkVolumeSatisfyClaim: why a volume the claim asks for by name cannot be bound to it
 * (undefined when it can).
 */
export function volumeSatisfiesClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (volume.metadata.deletionTimestamp) return `the volume is marked for deletion "${volume.metadata.name}"`;
  if (volumeCapacity(volume) < claimRequest(claim)) return "requested PV is too small";
  if (volumeClass(volume) !== claimClass(claim)) return "storageClassName does not match";
  if (volumeModeMismatch(claim, volume)) return "incompatible volumeMode";
  if (!checkAccessModes(claim, volume)) return "incompatible accessMode";
  return undefined;
}

/**
 * upstream persistentVolumeOrderedIndex.findBestMatchForClaim: volumes are grouped by their
 * access modes; the groups that offer every mode the claim asks for are tried from the fewest
 * modes up (a ReadWriteOnce claim takes an RWO volume before an RWO+ROX one), each with
 * FindMatchingVolume (a volume pre-bound to the claim first, else the smallest Available one of
 * the claim's class, size, volumeMode and selector; with delayBinding and no node only pre-bound
 * volumes; with a node only those that fit it).
 */
export function findBestMatchForClaim(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  node: Node | undefined,
  delayBinding: boolean,
): PersistentVolume | undefined {
  const groups = new Map<string, { modes: number; volumes: PersistentVolume[] }>();
  for (const v of volumes) {
    if (!checkAccessModes(claim, v)) continue;
    const modes = [...new Set(v.spec?.accessModes ?? [])].sort();
    const key = modes.join(",");
    let g = groups.get(key);
    if (!g) {
      g = { modes: modes.length, volumes: [] };
      groups.set(key, g);
    }
    g.volumes.push(v);
  }
  const ordered = [...groups.entries()].sort(([ka, a], [kb, b]) => a.modes - b.modes || ka.localeCompare(kb));
  for (const [, g] of ordered) {
    // Within a group, by size then name, so that equal volumes are taken in a stable order.
    g.volumes.sort((a, b) => {
      const d = volumeCapacity(a) - volumeCapacity(b);
      return d < 0n ? -1 : d > 0n ? 1 : (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
    });
    const found = findMatchingVolume(claim, g.volumes, node, new Set(), delayBinding);
    if (found) return found;
  }
  return undefined;
}
