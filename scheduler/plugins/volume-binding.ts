// VolumeBinding (upstream pkg/scheduler/framework/plugins/volumebinding): the pod's
// PersistentVolumeClaims decide where it may go and are bound as part of scheduling it.
//  - PreFilter: every claim must exist (and not be Lost or being deleted); a claim that is not
//    bound and whose class binds Immediately (no class, a class that does not exist, or
//    volumeBindingMode Immediate) rejects the pod until the PV binder binds it. Pods without
//    claims Skip the plugin.
//  - Filter: a bound claim's PV must admit the node (its nodeAffinity); a WaitForFirstConsumer
//    claim needs an Available PV of its class that admits the node, or a class with a
//    provisioner whose allowedTopologies admit the node; a claim already given a selected node
//    only fits that node.
//  - Reserve assumes the decisions in the plugin's PV/PVC caches (a PV's claimRef, a claim's
//    volume.kubernetes.io/selected-node) so the next pods see them; Unreserve drops them.
//  - PreBind (in the binding cycle) writes them (PV update, claim update) and waits, watching
//    the claims and PVs, until the binder has bound every claim (bind-completed), or fails
//    (the binder cleared the selected node, a claimRef was reset, the timeout passed), so the
//    scheduler unreserves and retries the pod.
// The binder itself (PV controller, provisioner) is the controller-manager's.

import { keyFor, keyOf } from "#pkg/api/keys.js";
import {
  ANN_SELECTED_NODE,
  CLAIM_LOST,
  claimClass,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type StorageClass,
  type TopologySelectorTerm,
} from "#pkg/api/types/index.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import {
  bindVolumeToClaim,
  checkNodeAffinity,
  claimRequest,
  findMatchingVolume,
  isClaimFullyBound,
  isDelayBindingMode,
  NOT_SUPPORTED_PROVISIONER,
} from "#pkg/volume/pv-helpers.js";
import type { NodeInfo } from "../framework/node-info.js";
import {
  type CycleState,
  errorStatus,
  type FilterPlugin,
  type PreBindPlugin,
  type PreFilterPlugin,
  type ReservePlugin,
  SKIP,
  type Status,
  SUCCESS,
  unresolvable,
} from "../framework/types.js";
import { AssumeCache, compareResourceVersion } from "./volume-assume-cache.js";

export const NAME = "VolumeBinding";
const STATE_KEY = NAME;

export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict";
export const ERR_REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
export const ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims";
/** Upstream VolumeBindingArgs.BindTimeoutSeconds default. */
export const DEFAULT_BIND_TIMEOUT_MS = 600_000;

/**
 * What the plugin reads and writes (upstream: the informers' listers and the clientset). The
 * scheduler app backs it with informers (scheduler/api.ts); onChange fires on every claim and
 * PV change and on pod deletion, which is what PreBind's wait re-checks on.
 */
export interface VolumeBindingHandle {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): readonly PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
  node(name: string): Node | undefined;
  /** The pod (this incarnation: uid) still exists. */
  podExists(namespace: string, name: string, uid: string): boolean;
  updateClaim(pvc: PersistentVolumeClaim): Promise<PersistentVolumeClaim>;
  updateVolume(pv: PersistentVolume): Promise<PersistentVolume>;
  onChange(listener: () => void): () => void;
}

/** A handle that knows no claims (a scheduler without volume informers: unit tests). */
export const EMPTY_VOLUME_HANDLE: VolumeBindingHandle = {
  claim: () => undefined,
  volume: () => undefined,
  volumes: () => [],
  storageClass: () => undefined,
  node: () => undefined,
  podExists: () => true,
  updateClaim: () => Promise.reject(new Error("no API for PersistentVolumeClaims")),
  updateVolume: () => Promise.reject(new Error("no API for PersistentVolumes")),
  onChange: () => () => undefined,
};

export interface VolumeBindingArgs {
  bindTimeoutMs?: number;
  clock?: Clock;
}

/** A claim matched to a static PV (upstream BindingInfo). */
interface Binding {
  pvc: PersistentVolumeClaim;
  pv: PersistentVolume;
}

/** What a node needs done for the pod's volumes (upstream PodVolumes). */
interface PodVolumes {
  staticBindings: Binding[];
  dynamicProvisions: PersistentVolumeClaim[];
}

interface StateData {
  bound: PersistentVolumeClaim[];
  delayed: PersistentVolumeClaim[];
  byNode: Map<string, PodVolumes>;
  allBound: boolean;
}

/** The claim names of the pod's persistentVolumeClaim volumes. */
export function podClaimVolumes(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? [])
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
  return out;
}

/** upstream v1helper.MatchTopologySelectorTerms: no terms admit every node; else some term's every expression. */
export function matchTopologySelectorTerms(
  terms: readonly TopologySelectorTerm[] | undefined,
  labels: Record<string, string>,
): boolean {
  if (!terms || terms.length === 0) return true;
  for (const t of terms) {
    const exprs = t.matchLabelExpressions ?? [];
    if (exprs.length === 0) continue;
    if (exprs.every((e) => Object.hasOwn(labels, e.key) && e.values.includes(labels[e.key] ?? ""))) return true;
  }
  return false;
}

function claimKey(pvc: PersistentVolumeClaim): string {
  return keyFor(pvc.metadata.namespace, pvc.metadata.name ?? "");
}

function bySize(a: PersistentVolumeClaim, b: PersistentVolumeClaim): number {
  const x = claimRequest(a);
  const y = claimRequest(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

class BindingError extends Error {}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin {
  readonly name = NAME;
  readonly claims: AssumeCache<PersistentVolumeClaim>;
  readonly pvs: AssumeCache<PersistentVolume>;
  readonly #h: VolumeBindingHandle;
  readonly #bindTimeoutMs: number;
  readonly #clock: Clock;

  constructor(h: VolumeBindingHandle, args: VolumeBindingArgs = {}) {
    this.#h = h;
    this.#bindTimeoutMs = args.bindTimeoutMs ?? DEFAULT_BIND_TIMEOUT_MS;
    this.#clock = args.clock ?? realClock;
    this.claims = new AssumeCache<PersistentVolumeClaim>(
      {
        get: (key) => {
          const slash = key.indexOf("/");
          return h.claim(key.slice(0, slash), key.slice(slash + 1));
        },
        // Claims are only ever looked up by key.
        list: () => [],
      },
      claimKey,
    );
    this.pvs = new AssumeCache<PersistentVolume>({ get: (name) => h.volume(name), list: () => h.volumes() }, keyOf);
  }

  // ------------------------------------------------------------ PreFilter

  preFilter(state: CycleState, pod: Pod): Status {
    const names = podClaimVolumes(pod);
    if (names.length === 0) {
      state.write(STATE_KEY, { bound: [], delayed: [], byNode: new Map(), allBound: true } satisfies StateData);
      return SKIP;
    }
    const ns = pod.metadata.namespace ?? "";
    const data: StateData = { bound: [], delayed: [], byNode: new Map(), allBound: false };
    let immediate = false;
    for (const name of names) {
      const pvc = this.claims.get(keyFor(ns, name));
      if (!pvc) return unresolvable(`persistentvolumeclaim "${name}" not found`);
      if (pvc.status?.phase === CLAIM_LOST) {
        return unresolvable(
          `persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ""}"`,
        );
      }
      if (pvc.metadata.deletionTimestamp) return unresolvable(`persistentvolumeclaim "${name}" is being deleted`);
      if (isClaimFullyBound(pvc)) data.bound.push(pvc);
      // A pre-bound claim (volumeName set) is the binder's to finish, as an immediate one.
      else if (isDelayBindingMode(pvc, (n) => this.#h.storageClass(n)) && !pvc.spec?.volumeName) data.delayed.push(pvc);
      else immediate = true;
    }
    // Checked after every claim exists: a missing claim is the clearer message.
    if (immediate) return unresolvable(ERR_UNBOUND_IMMEDIATE);
    state.write(STATE_KEY, data);
    return SUCCESS;
  }

  // ------------------------------------------------------------ Filter

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const data = state.read<StateData>(STATE_KEY);
    if (!data) return errorStatus(`error reading "${STATE_KEY}" from cycle state: not found`);
    const node = nodeInfo.node;
    if (!node) return unresolvable("node not found");
    let result: { volumes: PodVolumes; reasons: string[] };
    try {
      result = this.findPodVolumes(data, node);
    } catch (err) {
      return errorStatus(err instanceof Error ? err.message : String(err));
    }
    if (result.reasons.length > 0) return unresolvable(...result.reasons);
    data.byNode.set(nodeInfo.name, result.volumes);
    return SUCCESS;
  }

  /**
   * findPodVolumes (upstream FindPodVolumes): the node's verdict on the pod's claims and, when it
   * fits, the static bindings and provisionings it would take. Throws on configuration errors
   * (a delayed claim without a class, or with a class that does not exist).
   */
  findPodVolumes(data: StateData, node: Node): { volumes: PodVolumes; reasons: string[] } {
    const volumes: PodVolumes = { staticBindings: [], dynamicProvisions: [] };
    let boundOk = true;
    let boundPVsFound = true;
    let unboundOk = true;
    const verdict = () => {
      const reasons: string[] = [];
      if (!boundOk) reasons.push(ERR_REASON_NODE_CONFLICT);
      if (!unboundOk) reasons.push(ERR_REASON_BIND_CONFLICT);
      if (!boundPVsFound) reasons.push(ERR_REASON_PV_NOT_EXIST);
      return { volumes, reasons };
    };
    for (const pvc of data.bound) {
      const pv = this.pvs.get(pvc.spec?.volumeName ?? "");
      if (!pv) {
        boundPVsFound = false;
        return verdict();
      }
      if (!checkNodeAffinity(pv, node)) {
        boundOk = false;
        return verdict();
      }
    }
    if (data.delayed.length === 0) return verdict();
    const toMatch: PersistentVolumeClaim[] = [];
    const toProvision: PersistentVolumeClaim[] = [];
    for (const c of data.delayed) {
      // The cache's version: a claim this scheduler gave a node a moment ago carries it.
      const pvc = this.claims.get(claimKey(c)) ?? c;
      const selected = pvc.metadata.annotations?.[ANN_SELECTED_NODE];
      if (selected !== undefined) {
        if (selected !== node.metadata.name) {
          unboundOk = false;
          return verdict();
        }
        toProvision.push(pvc);
      } else toMatch.push(pvc);
    }
    if (toMatch.length > 0) {
      const chosen = new Set<string>();
      const all = this.pvs.list();
      for (const pvc of [...toMatch].sort(bySize)) {
        const pv = findMatchingVolume(pvc, all, node, chosen, true);
        if (!pv) {
          toProvision.push(pvc);
          continue;
        }
        chosen.add(pv.metadata.name ?? "");
        volumes.staticBindings.push({ pvc, pv });
      }
    }
    for (const pvc of toProvision) {
      const className = claimClass(pvc);
      if (!className) throw new Error(`no class for claim "${claimKey(pvc)}"`);
      const sc = this.#h.storageClass(className);
      if (!sc) throw new Error(`failed to find storage class "${className}"`);
      if (!sc.provisioner || sc.provisioner === NOT_SUPPORTED_PROVISIONER) {
        unboundOk = false;
        return verdict();
      }
      if (!matchTopologySelectorTerms(sc.allowedTopologies, node.metadata.labels ?? {})) {
        unboundOk = false;
        return verdict();
      }
      volumes.dynamicProvisions.push(pvc);
    }
    return verdict();
  }

  // ------------------------------------------------------------ Reserve / Unreserve

  reserve(state: CycleState, _pod: Pod, nodeName: string): Status {
    const data = state.read<StateData>(STATE_KEY);
    if (!data) return errorStatus(`error reading "${STATE_KEY}" from cycle state: not found`);
    const volumes = data.byNode.get(nodeName);
    if (!volumes || (volumes.staticBindings.length === 0 && volumes.dynamicProvisions.length === 0)) {
      data.allBound = true;
      return SUCCESS;
    }
    const assumed: PodVolumes = { staticBindings: [], dynamicProvisions: [] };
    try {
      for (const b of volumes.staticBindings) {
        const { volume, dirty } = bindVolumeToClaim(b.pv, b.pvc);
        if (dirty) this.pvs.assume(volume);
        assumed.staticBindings.push({ pvc: b.pvc, pv: volume });
      }
      for (const pvc of volumes.dynamicProvisions) {
        const clone = structuredClone(pvc);
        clone.metadata.annotations = { ...clone.metadata.annotations, [ANN_SELECTED_NODE]: nodeName };
        this.claims.assume(clone);
        assumed.dynamicProvisions.push(clone);
      }
    } catch (err) {
      this.#revert(assumed);
      return errorStatus(err instanceof Error ? err.message : String(err));
    }
    data.byNode.set(nodeName, assumed);
    data.allBound = false;
    return SUCCESS;
  }

  unreserve(state: CycleState, _pod: Pod, nodeName: string): void {
    const volumes = state.read<StateData>(STATE_KEY)?.byNode.get(nodeName);
    if (volumes) this.#revert(volumes);
  }

  #revert(v: PodVolumes): void {
    for (const b of v.staticBindings) this.pvs.restore(b.pv.metadata.name ?? "");
    for (const pvc of v.dynamicProvisions) this.claims.restore(claimKey(pvc));
  }

  // ------------------------------------------------------------ PreBind

  async preBind(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<Status> {
    const data = state.read<StateData>(STATE_KEY);
    if (!data) return errorStatus(`error reading "${STATE_KEY}" from cycle state: not found`);
    if (data.allBound) return SUCCESS;
    const volumes = data.byNode.get(nodeName);
    if (!volumes) return errorStatus(`no pod volumes found for node "${nodeName}"`);
    try {
      await this.#bindAPIUpdate(volumes);
    } catch (err) {
      return errorStatus(err instanceof Error ? err.message : String(err));
    }
    try {
      await this.#waitFor(() => this.#checkBindings(pod, nodeName, volumes), signal);
    } catch (err) {
      return errorStatus(`binding volumes: ${err instanceof Error ? err.message : String(err)}`);
    }
    return SUCCESS;
  }

  /** The API writes of the assumed decisions; what failed to be written is un-assumed. */
  async #bindAPIUpdate(v: PodVolumes): Promise<void> {
    let bound = 0;
    let provisioned = 0;
    try {
      for (const b of v.staticBindings) {
        b.pv = await this.#h.updateVolume(b.pv);
        bound++;
      }
      for (let i = 0; i < v.dynamicProvisions.length; i++) {
        const pvc = v.dynamicProvisions[i] as PersistentVolumeClaim;
        v.dynamicProvisions[i] = await this.#h.updateClaim(pvc);
        provisioned++;
      }
    } finally {
      this.#revert({
        staticBindings: v.staticBindings.slice(bound),
        dynamicProvisions: v.dynamicProvisions.slice(provisioned),
      });
    }
  }

  /**
   * checkBindings (upstream): true once every claim the pod's volumes needed is fully bound,
   * false while the binder is still at work, BindingError when binding must be retried. Reads
   * the API's versions, not assumed ones.
   */
  #checkBindings(pod: Pod, nodeName: string, v: PodVolumes): boolean {
    const node = this.#h.node(nodeName);
    if (!node) throw new BindingError(`failed to get node "${nodeName}"`);
    const { namespace = "", name = "", uid = "" } = pod.metadata;
    if (!this.#h.podExists(namespace, name, uid)) throw new BindingError("pod does not exist any more");
    const affinity = (pv: PersistentVolume) => {
      if (!checkNodeAffinity(pv, node)) {
        throw new BindingError(
          `pv "${pv.metadata.name}" node affinity doesn't match node "${nodeName}": no matching NodeSelectorTerms`,
        );
      }
    };
    for (const b of v.staticBindings) {
      const pvName = b.pv.metadata.name ?? "";
      const pv = this.pvs.getAPIObj(pvName);
      if (!pv) throw new BindingError(`failed to check binding: PV "${pvName}" not found`);
      const pvc = this.claims.getAPIObj(claimKey(b.pvc));
      if (!pvc) throw new BindingError(`failed to check binding: PVC "${claimKey(b.pvc)}" not found`);
      // Our write is not in the cache yet.
      if (compareResourceVersion(b.pv.metadata.resourceVersion, pv.metadata.resourceVersion) > 0) return false;
      affinity(pv);
      if (!pv.spec?.claimRef?.uid) throw new BindingError(`ClaimRef got reset for pv "${pvName}"`);
      if (!isClaimFullyBound(pvc)) return false;
    }
    for (const claim of v.dynamicProvisions) {
      const pvc = this.claims.getAPIObj(claimKey(claim));
      if (!pvc) throw new BindingError(`failed to check provisioning pvc: PVC "${claimKey(claim)}" not found`);
      if (compareResourceVersion(claim.metadata.resourceVersion, pvc.metadata.resourceVersion) > 0) return false;
      // The provisioner clears the selected node when it cannot provision there.
      if (pvc.metadata.annotations?.[ANN_SELECTED_NODE] !== nodeName) {
        throw new BindingError(`provisioning failed for PVC "${pvc.metadata.name}"`);
      }
      const volumeName = pvc.spec?.volumeName;
      if (volumeName) {
        const pv = this.pvs.getAPIObj(volumeName);
        // Not in the cache yet (or deleted, in which case the claim goes Lost): look again later.
        if (!pv) return false;
        affinity(pv);
      }
      if (!isClaimFullyBound(pvc)) return false;
    }
    return true;
  }

  /**
   * waitFor re-evaluates check on every claim/PV change (and pod deletion) until it returns
   * true, throws, the bind timeout passes or signal aborts (upstream polls once a second).
   */
  #waitFor(check: () => boolean, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let unsubscribe: () => void = () => undefined;
      let cancelTimer: () => void = () => undefined;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        cancelTimer();
        signal.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      const evaluate = () => {
        try {
          if (check()) finish();
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      };
      const onAbort = () => finish(new Error("the scheduler is stopping"));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      unsubscribe = this.#h.onChange(evaluate);
      cancelTimer = this.#clock.after(this.#bindTimeoutMs, () =>
        finish(new Error("timed out waiting for the condition")),
      );
      evaluate();
    });
  }
}
