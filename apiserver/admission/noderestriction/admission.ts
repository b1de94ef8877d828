// NodeRestriction (upstream plugin/pkg/admission/noderestriction): the other half of the Node
// authorizer. The authorizer lets a kubelet (system:node:<name> in system:nodes) write nodes,
// pods/status, pods/eviction, leases and serviceaccounts/token at all; this plugin narrows each
// write to the kubelet's own objects:
// - pods: create only mirror pods bound to itself (owned by its Node, referencing no
//   ServiceAccount, Secret, ConfigMap, ClusterTrustBundle or claim; kubeling runs no static pods,
//   so in practice a node creates none), delete only pods bound to it; no other operation and no
//   subresource but status and eviction (pods/binding is the scheduler's);
// - pods/status: only of pods bound to it, with their labels and claim statuses unchanged;
// - pods/eviction: only of pods bound to it;
// - nodes (and nodes/status): only its own Node, never its taints nor, beyond the kubelet's own
//   label set, its kubernetes.io / k8s.io labels, never node-restriction.kubernetes.io ones;
// - leases: only its own Lease in kube-node-lease;
// - serviceaccounts/token: only bound to a pod (v1 Pod, name and uid) scheduled on it.
// Requests of anyone else pass untouched. kubeling serves no PersistentVolumeClaims and no
// CSINodes, so upstream's PVC-status and CSINode rules have nothing to apply to.
//
// A mutating plugin, as upstream's (it runs in the admit half, after ServiceAccount), though it
// changes nothing. Pods are looked up through the store (upstream: the pod informer's lister).

import type { KubeObject } from "#pkg/api/meta.js";
import { podConfigMapNames, podSecretNames } from "#pkg/api/pod-references.js";
import { NODES, PODS } from "#pkg/api/resources.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import { nodeIdentity } from "../../auth/user.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { admissionForbidden } from "../errors.js";

export const NODE_RESTRICTION = "NodeRestriction";

/** upstream api.MirrorPodAnnotationKey. */
export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
/** upstream api.NamespaceNodeLease. */
const NODE_LEASE_NAMESPACE = "kube-node-lease";
/** upstream v1.LabelNamespaceNodeRestriction. */
const NODE_RESTRICTION_LABEL_NAMESPACE = "node-restriction.kubernetes.io";

/** upstream kubeletapis kubeletLabels: the kubernetes.io labels a kubelet may set on its Node. */
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
]);
/** upstream kubeletLabelNamespaces: label namespaces (and their subdomains) a kubelet may set. */
const KUBELET_LABEL_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

function labelNamespace(key: string): string {
  const i = key.indexOf("/");
  return i < 0 ? "" : key.slice(0, i);
}

const inNamespace = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

/** upstream IsKubeletLabel. */
export function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const ns = labelNamespace(key);
  return KUBELET_LABEL_NAMESPACES.some((d) => inNamespace(ns, d));
}

function isKubernetesLabel(key: string): boolean {
  const ns = labelNamespace(key);
  return inNamespace(ns, "kubernetes.io") || inNamespace(ns, "k8s.io");
}

/** upstream getModifiedLabels: keys added, removed or changed between a and b. */
function modifiedLabels(a: Record<string, string> = {}, b: Record<string, string> = {}): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(a)) if (b[k] !== v) out.add(k);
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) out.add(k);
  return out;
}

/** upstream getForbiddenLabels, sorted as upstream's sets.String.List(). */
export function forbiddenLabels(modified: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const k of modified) {
    if (inNamespace(labelNamespace(k), NODE_RESTRICTION_LABEL_NAMESPACE)) out.add(k);
    if (isKubernetesLabel(k) && !isKubeletLabel(k)) out.add(k);
  }
  return [...out].sort();
}

function labelsEqual(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  return modifiedLabels(a, b).size === 0;
}

/** upstream apiequality.Semantic.DeepEqual on JSON values: an absent list equals an empty one. */
function semanticEqual(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (Array.isArray(v) && v.length === 0 ? undefined : v);
  return JSON.stringify(norm(a) ?? null) === JSON.stringify(norm(b) ?? null);
}

/** upstream resourceClaimStatusesEqual: same names and claim names, in order. */
function claimStatusesEqual(a: unknown, b: unknown): boolean {
  type S = { name?: string; resourceClaimName?: string | null };
  const x = (Array.isArray(a) ? a : []) as S[];
  const y = (Array.isArray(b) ? b : []) as S[];
  if (x.length !== y.length) return false;
  return x.every(
    (s, i) => s.name === y[i]?.name && (s.resourceClaimName ?? null) === (y[i]?.resourceClaimName ?? null),
  );
}

const GROUP_RESOURCE = (a: Attributes) => `${a.resource.group}/${a.resource.resource}`;

export function newNodeRestriction(ctx: AdmissionContext): AdmissionPlugin {
  const podOf = async (namespace: string, name: string) => (await ctx.store(PODS).get(namespace, name)) as Pod;

  const admitPodCreate = async (node: string, a: Attributes): Promise<void> => {
    const pod = a.object as Pod | undefined;
    if (!pod?.spec) throw admissionForbidden(a, `unexpected type ${a.object?.kind ?? "<nil>"}`);
    if (!Object.hasOwn(pod.metadata.annotations ?? {}, MIRROR_POD_ANNOTATION))
      throw admissionForbidden(
        a,
        `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`,
      );
    if ((pod.spec.nodeName ?? "") !== node)
      throw admissionForbidden(a, `node "${node}" can only create pods with spec.nodeName set to itself`);
    const owners = pod.metadata.ownerReferences ?? [];
    if (owners.length > 1)
      throw admissionForbidden(a, `node "${node}" can only create pods with a single owner reference set to itself`);
    const owner = owners[0];
    if (!owner)
      throw admissionForbidden(a, `node "${node}" can only create pods with an owner reference set to itself`);
    if (owner.apiVersion !== "v1" || owner.kind !== "Node" || owner.name !== node)
      throw admissionForbidden(a, `node "${node}" can only create pods with an owner reference set to itself`);
    if (owner.controller !== true)
      throw admissionForbidden(
        a,
        `node "${node}" can only create pods with a controller owner reference set to itself`,
      );
    if (owner.blockOwnerDeletion === true)
      throw admissionForbidden(a, `node "${node}" must not set blockOwnerDeletion on an owner reference`);
    const nodeObj = (await ctx.store(NODES).get(undefined, node)) as Node; // NotFound passes through, as upstream
    if (owner.uid !== nodeObj.metadata.uid)
      throw admissionForbidden(
        a,
        `node ${node} UID mismatch: expected ${owner.uid ?? ""} got ${nodeObj.metadata.uid ?? ""}`,
      );
    if (pod.spec.serviceAccountName)
      throw admissionForbidden(a, `node "${node}" can not create pods that reference a service account`);
    if (podSecretNames(pod).size > 0)
      throw admissionForbidden(a, `node "${node}" can not create pods that reference secrets`);
    if (podConfigMapNames(pod).size > 0)
      throw admissionForbidden(a, `node "${node}" can not create pods that reference configmaps`);
    const volumes = pod.spec.volumes ?? [];
    if (
      volumes.some((v) => (v.projected?.sources ?? []).some((s) => "clusterTrustBundle" in s && s.clusterTrustBundle))
    )
      throw admissionForbidden(a, `node "${node}" can not create pods that reference clustertrustbundles`);
    if (volumes.some((v) => v.persistentVolumeClaim))
      throw admissionForbidden(a, `node "${node}" can not create pods that reference persistentvolumeclaims`);
  };

  const admitPod = async (node: string, a: Attributes): Promise<void> => {
    if (a.operation === "CREATE") return admitPodCreate(node, a);
    if (a.operation === "DELETE") {
      const existing = (a.oldObject as Pod | undefined) ?? (await podOf(a.namespace, a.name));
      if ((existing.spec?.nodeName ?? "") !== node)
        throw admissionForbidden(a, `node "${node}" can only delete pods with spec.nodeName set to itself`);
      return;
    }
    throw admissionForbidden(
      a,
      `unexpected operation "${a.operation}", node "${node}" can only create and delete mirror pods`,
    );
  };

  const admitPodStatus = (node: string, a: Attributes): void => {
    if (a.operation !== "UPDATE") throw admissionForbidden(a, `unexpected operation "${a.operation}"`);
    const oldPod = a.oldObject as Pod | undefined;
    const newPod = a.object as Pod | undefined;
    if (!oldPod) throw admissionForbidden(a, "unexpected type <nil>");
    if ((oldPod.spec?.nodeName ?? "") !== node)
      throw admissionForbidden(
        a,
        `node "${node}" can only update pod status for pods with spec.nodeName set to itself`,
      );
    if (!newPod) throw admissionForbidden(a, "unexpected type <nil>");
    if (!labelsEqual(oldPod.metadata.labels, newPod.metadata.labels))
      throw admissionForbidden(a, `node "${node}" cannot update labels through pod status`);
    if (!claimStatusesEqual(oldPod.status?.resourceClaimStatuses, newPod.status?.resourceClaimStatuses))
      throw admissionForbidden(a, `node "${node}" cannot update resource claim statues`);
  };

  const admitPodEviction = async (node: string, a: Attributes): Promise<void> => {
    if (a.operation !== "CREATE") throw admissionForbidden(a, `unexpected operation ${a.operation}`);
    if (!a.object) throw admissionForbidden(a, "unexpected type <nil>");
    // The pod named by the URL, else by the Eviction (upstream prefers the attributes' name).
    const podName = a.name || a.object.metadata.name || "";
    if (!podName) throw admissionForbidden(a, "could not determine pod from request data");
    const existing = await podOf(a.namespace, podName);
    if ((existing.spec?.nodeName ?? "") !== node)
      throw admissionForbidden(a, `node ${node} can only evict pods with spec.nodeName set to itself`);
  };

  const admitNode = (node: string, a: Attributes): void => {
    const requested = a.name || (a.operation === "CREATE" ? (a.object?.metadata.name ?? "") : "");
    if (requested !== node) throw admissionForbidden(a, `node "${node}" is not allowed to modify node "${requested}"`);
    const next = a.object as Node | undefined;
    if (a.operation === "CREATE") {
      if (!next) throw admissionForbidden(a, "unexpected type <nil>");
      if (next.spec?.configSource != null)
        throw admissionForbidden(a, `node "${node}" is not allowed to create pods with a non-nil configSource`);
      const forbidden = forbiddenLabels(modifiedLabels(next.metadata.labels, undefined));
      if (forbidden.length > 0)
        throw admissionForbidden(
          a,
          `node "${node}" is not allowed to set the following labels: ${forbidden.join(", ")}`,
        );
    }
    if (a.operation === "UPDATE") {
      const old = a.oldObject as Node | undefined;
      if (!next || !old) throw admissionForbidden(a, "unexpected type <nil>");
      if (next.spec?.configSource != null && !semanticEqual(next.spec.configSource, old.spec?.configSource))
        throw admissionForbidden(
          a,
          `node "${node}" is not allowed to update configSource to a new non-nil configSource`,
        );
      if (!semanticEqual(next.spec?.taints, old.spec?.taints))
        throw admissionForbidden(a, `node "${node}" is not allowed to modify taints`);
      const forbidden = forbiddenLabels(modifiedLabels(next.metadata.labels, old.metadata.labels));
      if (forbidden.length > 0) throw admissionForbidden(a, `is not allowed to modify labels: ${forbidden.join(", ")}`);
    }
  };

  const admitServiceAccount = async (node: string, a: Attributes): Promise<void> => {
    if (a.operation !== "CREATE" || a.subresource !== "token") return;
    const tr = a.object as (KubeObject & { spec?: { boundObjectRef?: BoundObjectRef | null } }) | undefined;
    if (!tr) throw admissionForbidden(a, "unexpected type <nil>");
    const ref = tr.spec?.boundObjectRef;
    if (ref?.apiVersion !== "v1" || ref.kind !== "Pod" || !ref.name)
      throw admissionForbidden(a, "node requested token not bound to a pod");
    if (!ref.uid) throw admissionForbidden(a, "node requested token with a pod binding without a uid");
    const pod = await podOf(a.namespace, ref.name);
    if (ref.uid !== pod.metadata.uid)
      throw admissionForbidden(
        a,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    if ((pod.spec?.nodeName ?? "") !== node)
      throw admissionForbidden(a, "node requested token bound to a pod scheduled on a different node");
  };

  const admitLease = (node: string, a: Attributes): void => {
    if (a.namespace !== NODE_LEASE_NAMESPACE)
      throw admissionForbidden(a, `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    // On create the name is the proposed object's (upstream: a.GetName() is empty then).
    const name = a.operation === "CREATE" ? (a.object?.metadata.name ?? "") : a.name;
    if (name !== node)
      throw admissionForbidden(a, "can only access node lease with the same name as the requesting node");
  };

  return {
    name: NODE_RESTRICTION,
    handles: (op: Operation) => op === "CREATE" || op === "UPDATE" || op === "DELETE",
    async admit(a) {
      if (!a.userInfo) return;
      const { isNode, nodeName } = nodeIdentity(a.userInfo);
      if (!isNode) return;
      if (!nodeName) throw admissionForbidden(a, `could not determine node from user "${a.userInfo.name}"`);
      switch (GROUP_RESOURCE(a)) {
        case "/pods":
          switch (a.subresource) {
            case "":
              return admitPod(nodeName, a);
            case "status":
              return admitPodStatus(nodeName, a);
            case "eviction":
              return admitPodEviction(nodeName, a);
            default:
              throw admissionForbidden(
                a,
                `unexpected pod subresource "${a.subresource}", only 'status' and 'eviction' are allowed`,
              );
          }
        case "/nodes":
          return admitNode(nodeName, a);
        case "/serviceaccounts":
          return admitServiceAccount(nodeName, a);
        case "coordination.k8s.io/leases":
          return admitLease(nodeName, a);
        default:
          return;
      }
    },
  };
}

/** authentication.k8s.io/v1 BoundObjectReference. */
interface BoundObjectRef {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}
