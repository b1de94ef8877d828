// The scheduler cache (upstream backend/cache/cache.go): nodes with the pods on them, fed by
// the informers, plus ASSUMED pods. scheduleOne assumes a pod on its chosen node before the
// binding is sent, so the next pods in a burst already see the node's room taken; a failed
// bind forgets the assumption, and the informer's view of the bound pod confirms it.

import { keyOf } from "#pkg/api/keys.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import { NodeInfo } from "./framework/node-info.js";

interface PodState {
  pod: Pod;
  nodeName: string;
  assumed: boolean;
  bindingFinished: boolean;
}

export class SchedulerCache {
  readonly #nodes = new Map<string, NodeInfo>();
  readonly #pods = new Map<string, PodState>();
  /** Node infos that have a Node object, in insertion order; rebuilt lazily after node adds/removes. */
  #list: NodeInfo[] | undefined;

  #nodeInfo(name: string): NodeInfo {
    let n = this.#nodes.get(name);
    if (!n) {
      n = new NodeInfo();
      this.#nodes.set(name, n);
    }
    return n;
  }

  addNode(node: Node): void {
    const name = node.metadata.name ?? "";
    this.#nodeInfo(name).setNode(node);
    this.#list = undefined;
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  /** removeNode drops the Node; pods still bound to it keep their placeholder until they go. */
  removeNode(name: string): void {
    const n = this.#nodes.get(name);
    if (!n) return;
    if (n.pods.size === 0) this.#nodes.delete(name);
    else n.node = undefined;
    this.#list = undefined;
  }

  /** nodeInfos: the nodes the scheduler can place pods on (those with a Node object). */
  nodeInfos(): NodeInfo[] {
    if (!this.#list) this.#list = [...this.#nodes.values()].filter((n) => n.node !== undefined);
    return this.#list;
  }

  getNodeInfo(name: string): NodeInfo | undefined {
    return this.#nodes.get(name);
  }

  get nodeCount(): number {
    return this.nodeInfos().length;
  }

  #place(pod: Pod, nodeName: string): void {
    const n = this.#nodeInfo(nodeName);
    const hadNode = n.node !== undefined;
    n.addPod(pod);
    if (!hadNode) this.#list = undefined;
  }

  #unplace(key: string, nodeName: string): void {
    const n = this.#nodes.get(nodeName);
    if (!n) return;
    n.removePod(key);
    if (!n.node && n.pods.size === 0) {
      this.#nodes.delete(nodeName);
      this.#list = undefined;
    }
  }

  /** assumePod counts pod (with spec.nodeName set to the chosen node) as placed, before binding. */
  assumePod(pod: Pod): void {
    const key = keyOf(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw new Error(`assumePod ${key}: spec.nodeName is empty`);
    if (this.#pods.has(key)) throw new Error(`assumePod ${key}: pod is already in the cache`);
    this.#pods.set(key, { pod, nodeName, assumed: true, bindingFinished: false });
    this.#place(pod, nodeName);
  }

  /** finishBinding marks an assumed pod's bind as returned; it stays assumed until confirmed. */
  finishBinding(pod: Pod): void {
    const st = this.#pods.get(keyOf(pod));
    if (st?.assumed) st.bindingFinished = true;
  }

  /** forgetPod undoes an assumption (the bind failed). A confirmed pod is left alone. */
  forgetPod(pod: Pod): void {
    const key = keyOf(pod);
    const st = this.#pods.get(key);
    if (!st?.assumed) return;
    this.#pods.delete(key);
    this.#unplace(key, st.nodeName);
  }

  isAssumed(key: string): boolean {
    return this.#pods.get(key)?.assumed === true;
  }

  /** addPod records a bound pod seen by the informer; it confirms an assumption (even on another node). */
  addPod(pod: Pod): void {
    const key = keyOf(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const st = this.#pods.get(key);
    if (st) this.#unplace(key, st.nodeName);
    this.#pods.set(key, { pod, nodeName, assumed: false, bindingFinished: true });
    this.#place(pod, nodeName);
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(key: string): void {
    const st = this.#pods.get(key);
    if (!st) return;
    this.#pods.delete(key);
    this.#unplace(key, st.nodeName);
  }

  get podCount(): number {
    return this.#pods.size;
  }

  get assumedCount(): number {
    let n = 0;
    for (const s of this.#pods.values()) if (s.assumed) n++;
    return n;
  }
}
