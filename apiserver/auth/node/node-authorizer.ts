// The Node authorizer (upstream plugin/pkg/auth/authorizer/node/node_authorizer.go): a kubelet,
// user system:node:<name> in group system:nodes, reads only the Secrets, ConfigMaps and
// PersistentVolumeClaims of pods bound to its node and the PersistentVolumes those claims are
// bound to (spec.volumeName), creates tokens only for their
// ServiceAccounts, touches only its own Lease in kube-node-lease, and otherwise holds the
// static system:node rules. Which objects it may modify (its own Node, its pods' status) is
// NodeRestriction admission's to narrow, as upstream.
//
// Nodes and pods are read as upstream's AuthorizeNodeWithSelectors (beta, on by default since
// 1.32) has it: a kubelet reads only its own Node (get nodes/<self>, or list/watch with
// fieldSelector metadata.name=<self>), gets only pods bound to it, and lists or watches pods
// only with fieldSelector spec.nodeName=<self>. The static rules no longer answer for nodes or
// pods; the system:node ClusterRole keeps its broad rules (upstream's too), which matter only
// to whoever binds that role.
//
// Upstream keeps a graph fed by informers; here the relationships are read from the pods the
// API server's watch cache holds for the node, which is the same information.

import { podClaimNames, podConfigMapNames, podSecretNames, podServiceAccountName } from "#pkg/api/pod-references.js";
import type { Pod } from "#pkg/api/types/index.js";
import type { PolicyRule } from "#pkg/api/types/rbac.js";
import {
  type Attributes,
  type AuthorizationResult,
  type Authorizer,
  allow,
  noOpinion,
  type RuleResolver,
  type RulesResult,
} from "../authorizer/authorizer.js";
import { rulesAllow } from "../rbac/rule.js";
import { nodeIdentity, type UserInfo } from "../user.js";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** What the authorizer knows of the cluster: the pods bound to a node, and claims by name. */
export interface NodeGraphSource {
  podsOnNode(nodeName: string): readonly Pod[];
  /** The claim's spec.volumeName (upstream's graph edge pv -> pvc); undefined when unknown. */
  claimVolumeName?(namespace: string, name: string): string | undefined;
}

type Related = (pod: Pod) => Set<string>;

/** A pod is related to itself (upstream's edge pod -> node). */
const podName: Related = (pod) => new Set([pod.metadata.name ?? ""]);

export class NodeAuthorizer implements Authorizer, RuleResolver {
  constructor(
    private readonly source: NodeGraphSource,
    private readonly nodeRules: readonly PolicyRule[],
  ) {}

  authorize(a: Attributes): AuthorizationResult {
    const { isNode, nodeName } = nodeIdentity(a.user);
    if (!isNode) return noOpinion();
    if (!nodeName) return noOpinion(`unknown node for user ${JSON.stringify(a.user.name)}`);
    if (a.resourceRequest) {
      const gr = `${a.apiGroup}/${a.resource}`;
      switch (gr) {
        case "/secrets":
          return this.readNamespacedObject(nodeName, a, podSecretNames);
        case "/configmaps":
          return this.readNamespacedObject(nodeName, a, podConfigMapNames);
        case "/persistentvolumeclaims":
          if (a.subresource === "status") return this.statusUpdate(nodeName, a, podClaimNames);
          return this.get(nodeName, a, podClaimNames);
        case "/persistentvolumes":
          return this.getVolume(nodeName, a);
        case "/serviceaccounts":
          return this.createToken(nodeName, a);
        case "coordination.k8s.io/leases":
          return this.lease(nodeName, a);
        case "/nodes":
          return this.node(nodeName, a);
        case "/pods":
          return this.pod(nodeName, a);
      }
    }
    return rulesAllow(a, this.nodeRules) ? allow() : noOpinion();
  }

  /** upstream: nodes do not have fully enumerated permissions. */
  rulesFor(user: UserInfo): RulesResult {
    if (nodeIdentity(user).isNode) {
      return {
        resourceRules: [],
        nonResourceRules: [],
        incomplete: true,
        error: "node authorizer does not support user rule resolution",
      };
    }
    return { resourceRules: [], nonResourceRules: [], incomplete: false };
  }

  private readNamespacedObject(node: string, a: Attributes, related: Related): AuthorizationResult {
    if (!["get", "list", "watch"].includes(a.verb)) return noOpinion("can only read resources of this type");
    if (a.subresource) return noOpinion("cannot read subresource");
    if (!a.namespace) return noOpinion("can only read namespaced object of this type");
    return this.related(node, a, related);
  }

  private get(node: string, a: Attributes, related: Related): AuthorizationResult {
    if (a.verb !== "get") return noOpinion("can only get individual resources of this type");
    if (a.subresource) return noOpinion("cannot get subresource");
    return this.related(node, a, related);
  }

  /** A PV is related through a claim of a pod on the node that is bound to it (pv -> pvc -> pod -> node). */
  private getVolume(node: string, a: Attributes): AuthorizationResult {
    if (a.verb !== "get") return noOpinion("can only get individual resources of this type");
    if (a.subresource) return noOpinion("cannot get subresource");
    if (!a.name) return noOpinion("No Object name found");
    const volumeName = this.source.claimVolumeName?.bind(this.source);
    const found =
      !!volumeName &&
      this.source.podsOnNode(node).some((p) => {
        const ns = p.metadata.namespace ?? "";
        for (const claim of podClaimNames(p)) if (volumeName(ns, claim) === a.name) return true;
        return false;
      });
    return found ? allow() : noOpinion(`no relationship found between node ${JSON.stringify(node)} and this object`);
  }

  private statusUpdate(node: string, a: Attributes, related: Related): AuthorizationResult {
    if (a.verb !== "update" && a.verb !== "patch") return noOpinion("can only get/update/patch this type");
    return this.related(node, a, related);
  }

  private createToken(node: string, a: Attributes): AuthorizationResult {
    if (a.verb !== "create" || !a.name) return noOpinion("can only create tokens for individual service accounts");
    if (a.subresource !== "token") return noOpinion("can only create token subresource of serviceaccount");
    return this.related(node, a, (pod) => new Set([podServiceAccountName(pod)]));
  }

  private lease(node: string, a: Attributes): AuthorizationResult {
    if (!["get", "create", "update", "patch", "delete"].includes(a.verb)) {
      return noOpinion("can only get, create, update, patch, or delete a node lease");
    }
    if (a.namespace !== NODE_LEASE_NAMESPACE) {
      return noOpinion(`can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`);
    }
    // A create names no object: NodeRestriction admission checks the name then.
    if (a.verb !== "create" && a.name !== node) {
      return noOpinion("can only access node lease with the same name as the requesting node");
    }
    return allow();
  }

  /** upstream authorizeNode: writes are NodeRestriction's to narrow; reads only of its own Node. */
  private node(node: string, a: Attributes): AuthorizationResult {
    if (a.subresource === "") {
      if (["create", "update", "patch"].includes(a.verb)) return allow();
      if (["get", "list", "watch"].includes(a.verb)) {
        // The name is compared, not looked up, so a kubelet may read its Node before creating it.
        if (a.name === node) return allow();
        if (a.name === "") return noOpinion(`node '${node}' cannot read all nodes, only its own Node object`);
        return noOpinion(`node '${node}' cannot read '${a.name}', only its own Node object`);
      }
    } else if (a.subresource === "status" && (a.verb === "update" || a.verb === "patch")) {
      return allow();
    }
    return noOpinion();
  }

  /** upstream authorizePod: reads scoped to the node, writes NodeRestriction's to narrow. */
  private pod(node: string, a: Attributes): AuthorizationResult {
    switch (a.subresource) {
      case "":
        if (a.verb === "get") return this.related(node, a, podName);
        if (a.verb === "list" || a.verb === "watch") {
          const scoped = a.fieldSelector?.some(
            (r) => r.field === "spec.nodeName" && r.operator === "=" && r.value === node,
          );
          if (scoped) return allow();
          // A list or watch of one pod by name (metadata.name=) is a read of that pod.
          if (a.name !== "") return this.related(node, a, podName);
          return noOpinion("can only list/watch pods with spec.nodeName field selector");
        }
        // Mirror pods: NodeRestriction admits only those bound to the node.
        if (a.verb === "create" || a.verb === "delete") return allow();
        break;
      case "status":
        if (a.verb === "update" || a.verb === "patch") return allow();
        break;
      case "eviction":
        if (a.verb === "create") return allow();
        break;
    }
    return noOpinion();
  }

  /** Some pod on the node, in the object's namespace, uses the object. */
  private related(node: string, a: Attributes, related: Related): AuthorizationResult {
    if (!a.name) return noOpinion("No Object name found");
    const found = this.source
      .podsOnNode(node)
      .some((p) => (p.metadata.namespace ?? "") === a.namespace && related(p).has(a.name));
    return found ? allow() : noOpinion(`no relationship found between node ${JSON.stringify(node)} and this object`);
  }
}
