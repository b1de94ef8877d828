// The bootstrap RBAC policy (upstream plugin/pkg/auth/authorizer/rbac/bootstrappolicy): the
// roles and bindings every cluster starts with, reconciled by the API server at start
// (reconcile.ts). Upstream's policy, kept to the roles of what kubeling runs: the user-facing
// roles (cluster-admin, admin/edit/view aggregated from system:aggregate-to-*), discovery and
// public info, monitoring, the components (scheduler, controller-manager and its controllers,
// kubelets, kube-proxy).

import type { ClusterRole, ClusterRoleBinding, PolicyRule, Subject } from "#pkg/api/types/rbac.js";
import { AUTO_UPDATE_ANNOTATION, RBAC_GROUP } from "#pkg/api/types/rbac.js";
import {
  ALL_AUTHENTICATED,
  ALL_SERVICE_ACCOUNTS_GROUP,
  ALL_UNAUTHENTICATED,
  KUBE_CONTROLLER_MANAGER,
  KUBE_DNS,
  KUBE_PROXY,
  KUBE_SCHEDULER,
  MONITORING_GROUP,
  SYSTEM_PRIVILEGED_GROUP,
} from "../user.js";

/** kubeling-dns's right to keep kube-system/kube-dns (dns/publish.ts). */
export const KUBE_DNS_PUBLISHER_ROLE = "kubeling:kube-dns-publisher";

const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE = [...READ, ...WRITE];

const CORE = "";
const APPS = "apps";
const AUTHENTICATION = "authentication.k8s.io";
const AUTHORIZATION = "authorization.k8s.io";
const AUTOSCALING = "autoscaling";
const BATCH = "batch";
const COORDINATION = "coordination.k8s.io";
const DISCOVERY = "discovery.k8s.io";
const EVENTS = "events.k8s.io";
const EXTENSIONS = "extensions";
const NETWORKING = "networking.k8s.io";
const POLICY = "policy";
const STORAGE = "storage.k8s.io";

/** The label every bootstrap object carries. */
export const BOOTSTRAP_LABEL = { "kubernetes.io/bootstrapping": "rbac-defaults" };
export const AGGREGATE_TO_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin";
export const AGGREGATE_TO_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit";
export const AGGREGATE_TO_VIEW = "rbac.authorization.k8s.io/aggregate-to-view";
/** Upstream's prefix of the roles of kube-controller-manager's controllers. */
export const CONTROLLER_ROLE_PREFIX = "system:controller:";

/** A rule builder shaped like upstream's rbacv1helpers.NewRule(...).Groups(...).Resources(...). */
function rule(
  verbs: string[],
  o: { groups?: string[]; resources?: string[]; names?: string[]; urls?: string[] },
): PolicyRule {
  const r: PolicyRule = { verbs };
  if (o.groups) r.apiGroups = o.groups;
  if (o.resources) r.resources = o.resources;
  if (o.names) r.resourceNames = o.names;
  if (o.urls) r.nonResourceURLs = o.urls;
  return r;
}
const res = (verbs: string[], groups: string[], resources: string[], names?: string[]) =>
  rule(verbs, { groups, resources, ...(names ? { names } : {}) });
const urls = (verbs: string[], paths: string[]) => rule(verbs, { urls: paths });

const eventsRule = () => res(["create", "update", "patch"], [CORE, EVENTS], ["events"]);

function clusterRole(
  name: string,
  rules: PolicyRule[],
  o: { labels?: Record<string, string>; aggregate?: string } = {},
): ClusterRole {
  const role: ClusterRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: {
      name,
      labels: { ...(o.labels ?? {}), ...BOOTSTRAP_LABEL },
      annotations: { [AUTO_UPDATE_ANNOTATION]: "true" },
    },
  };
  if (o.aggregate) role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [o.aggregate]: "true" } }] };
  else role.rules = rules;
  return role;
}

const user = (name: string): Subject => ({ kind: "User", apiGroup: RBAC_GROUP, name });
const group = (name: string): Subject => ({ kind: "Group", apiGroup: RBAC_GROUP, name });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: "ServiceAccount", name, namespace });

function clusterBinding(role: string, subjects: Subject[], name = role): ClusterRoleBinding {
  const b: ClusterRoleBinding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: {
      name,
      labels: { ...BOOTSTRAP_LABEL },
      annotations: { [AUTO_UPDATE_ANNOTATION]: "true" },
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: role },
  };
  if (subjects.length > 0) b.subjects = subjects;
  return b;
}

/** upstream NodeRules: what a kubelet may do (the Node authorizer narrows the per-object ones). */
export function nodeRules(): PolicyRule[] {
  return [
    res(["create"], [AUTHENTICATION], ["tokenreviews"]),
    res(["create"], [AUTHORIZATION], ["subjectaccessreviews", "localsubjectaccessreviews"]),
    res(READ, [CORE], ["services"]),
    res(["create", "get", "list", "watch"], [CORE], ["nodes"]),
    res(["update", "patch"], [CORE], ["nodes/status"]),
    res(["update", "patch"], [CORE], ["nodes"]),
    res(["create", "update", "patch"], [CORE], ["events"]),
    res(READ, [CORE], ["pods"]),
    res(["create", "delete"], [CORE], ["pods"]),
    res(["update", "patch"], [CORE], ["pods/status"]),
    res(["create"], [CORE], ["pods/eviction"]),
    res(READ, [CORE], ["secrets", "configmaps"]),
    res(["get"], [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
    res(["get"], [CORE], ["endpoints"]),
    res(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
    res(["get", "create", "update", "patch", "delete"], [COORDINATION], ["leases"]),
    res(["get"], [STORAGE], ["volumeattachments"]),
    res(["get", "update", "patch"], [CORE], ["persistentvolumeclaims/status"]),
    res(["create"], [CORE], ["serviceaccounts/token"]),
  ];
}

function aggregateToEditRules(): PolicyRule[] {
  return [
    res(READ, [CORE], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
    res(["impersonate"], [CORE], ["serviceaccounts"]),
    res(WRITE, [CORE], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
    res(["create"], [CORE], ["pods/eviction"]),
    res(
      WRITE,
      [CORE],
      [
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "serviceaccounts",
        "services",
        "services/proxy",
        "persistentvolumeclaims",
        "configmaps",
        "secrets",
      ],
    ),
    res(["create"], [CORE], ["serviceaccounts/token"]),
    res(
      WRITE,
      [APPS],
      [
        "statefulsets",
        "statefulsets/scale",
        "daemonsets",
        "deployments",
        "deployments/scale",
        "deployments/rollback",
        "replicasets",
        "replicasets/scale",
      ],
    ),
    res(WRITE, [AUTOSCALING], ["horizontalpodautoscalers"]),
    res(WRITE, [BATCH], ["jobs", "cronjobs"]),
    res(
      WRITE,
      [EXTENSIONS],
      [
        "daemonsets",
        "deployments",
        "deployments/scale",
        "deployments/rollback",
        "ingresses",
        "replicasets",
        "replicasets/scale",
        "replicationcontrollers/scale",
        "networkpolicies",
      ],
    ),
    res(WRITE, [POLICY], ["poddisruptionbudgets"]),
    res(WRITE, [NETWORKING], ["networkpolicies", "ingresses"]),
  ];
}

function aggregateToViewRules(): PolicyRule[] {
  return [
    res(
      READ,
      [CORE],
      [
        "pods",
        "replicationcontrollers",
        "replicationcontrollers/scale",
        "serviceaccounts",
        "services",
        "services/status",
        "endpoints",
        "persistentvolumeclaims",
        "persistentvolumeclaims/status",
        "configmaps",
      ],
    ),
    res(
      READ,
      [CORE],
      [
        "limitranges",
        "resourcequotas",
        "bindings",
        "events",
        "pods/status",
        "resourcequotas/status",
        "namespaces/status",
        "replicationcontrollers/status",
        "pods/log",
      ],
    ),
    res(READ, [CORE], ["namespaces"]),
    res(READ, [DISCOVERY], ["endpointslices"]),
    res(
      READ,
      [APPS],
      [
        "controllerrevisions",
        "statefulsets",
        "statefulsets/status",
        "statefulsets/scale",
        "daemonsets",
        "daemonsets/status",
        "deployments",
        "deployments/status",
        "deployments/scale",
        "replicasets",
        "replicasets/status",
        "replicasets/scale",
      ],
    ),
    res(READ, [AUTOSCALING], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    res(READ, [BATCH], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
    res(
      READ,
      [EXTENSIONS],
      [
        "daemonsets",
        "daemonsets/status",
        "deployments",
        "deployments/scale",
        "deployments/status",
        "ingresses",
        "ingresses/status",
        "replicasets",
        "replicasets/scale",
        "replicasets/status",
        "replicationcontrollers/scale",
        "networkpolicies",
      ],
    ),
    res(READ, [POLICY], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    res(READ, [NETWORKING], ["networkpolicies", "ingresses", "ingresses/status"]),
  ];
}

function kubeSchedulerRules(): PolicyRule[] {
  return [
    eventsRule(),
    res(["create"], [COORDINATION], ["leases"]),
    res(["get", "update"], [COORDINATION], ["leases"], ["kube-scheduler"]),
    res(READ, [CORE], ["nodes"]),
    res(["get", "list", "watch", "delete"], [CORE], ["pods"]),
    res(["create"], [CORE], ["pods/binding", "bindings"]),
    res(["patch", "update"], [CORE], ["pods/status"]),
    res(READ, [CORE], ["services", "replicationcontrollers"]),
    res(READ, [APPS, EXTENSIONS], ["replicasets"]),
    res(READ, [APPS], ["statefulsets"]),
    res(READ, [POLICY], ["poddisruptionbudgets"]),
    res(READ, [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
    res(["create"], [AUTHENTICATION], ["tokenreviews"]),
    res(["create"], [AUTHORIZATION], ["subjectaccessreviews"]),
    res(READ, [STORAGE], ["csinodes"]),
    res(READ, [CORE], ["namespaces"]),
    res(READ, [STORAGE], ["csidrivers"]),
    res(READ, [STORAGE], ["csistoragecapacities"]),
  ];
}

function kubeControllerManagerRules(): PolicyRule[] {
  return [
    eventsRule(),
    res(["create"], [COORDINATION], ["leases"]),
    res(["get", "update"], [COORDINATION], ["leases"], ["kube-controller-manager"]),
    res(["create"], [CORE], ["secrets", "serviceaccounts"]),
    res(["delete"], [CORE], ["secrets"]),
    res(["get"], [CORE], ["namespaces", "secrets", "serviceaccounts", "configmaps"]),
    res(["update"], [CORE], ["secrets", "serviceaccounts"]),
    res(["create"], [AUTHENTICATION], ["tokenreviews"]),
    res(["create"], [AUTHORIZATION], ["subjectaccessreviews"]),
    res(["list", "watch"], ["*"], ["*"]),
    res(["create"], [CORE], ["serviceaccounts/token"]),
  ];
}

/** upstream controller_policy.go, for the controllers kubeling-controller-manager runs. */
function controllerRoles(): Array<{ name: string; rules: PolicyRule[] }> {
  return [
    {
      name: "clusterrole-aggregation-controller",
      rules: [res(["escalate", "get", "list", "watch", "update", "patch"], [RBAC_GROUP], ["clusterroles"])],
    },
    {
      name: "cronjob-controller",
      rules: [
        res(["get", "list", "watch", "update"], [BATCH], ["cronjobs"]),
        res(["get", "list", "watch", "create", "update", "delete", "patch"], [BATCH], ["jobs"]),
        res(["update"], [BATCH], ["cronjobs/status"]),
        res(["update"], [BATCH], ["cronjobs/finalizers"]),
        res(["list", "delete"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "daemon-set-controller",
      rules: [
        res(["get", "list", "watch"], [EXTENSIONS, APPS], ["daemonsets"]),
        res(["update"], [EXTENSIONS, APPS], ["daemonsets/status"]),
        res(["update"], [EXTENSIONS, APPS], ["daemonsets/finalizers"]),
        res(["list", "watch"], [CORE], ["nodes"]),
        res(["list", "watch", "create", "delete", "patch"], [CORE], ["pods"]),
        res(["create"], [CORE], ["pods/binding"]),
        res(["get", "list", "watch", "create", "delete", "update", "patch"], [APPS], ["controllerrevisions"]),
        eventsRule(),
      ],
    },
    {
      name: "deployment-controller",
      rules: [
        res(["get", "list", "watch", "update"], [EXTENSIONS, APPS], ["deployments"]),
        res(["update"], [EXTENSIONS, APPS], ["deployments/status"]),
        res(["update"], [EXTENSIONS, APPS], ["deployments/finalizers"]),
        res(["get", "list", "watch", "create", "update", "patch", "delete"], [APPS, EXTENSIONS], ["replicasets"]),
        res(["get", "list", "watch", "update"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "disruption-controller",
      rules: [
        res(READ, [EXTENSIONS, APPS], ["deployments"]),
        res(READ, [APPS, EXTENSIONS], ["replicasets"]),
        res(READ, [CORE], ["replicationcontrollers"]),
        res(READ, [POLICY], ["poddisruptionbudgets"]),
        res(READ, [APPS], ["statefulsets"]),
        res(["update"], [POLICY], ["poddisruptionbudgets/status"]),
        res(["patch", "update"], [CORE], ["pods/status"]),
        res(["get"], ["*"], ["*/scale"]),
        eventsRule(),
      ],
    },
    {
      name: "endpoint-controller",
      rules: [
        res(["get", "list", "watch"], [CORE], ["services", "pods"]),
        res(["get", "list", "create", "update", "delete"], [CORE], ["endpoints"]),
        res(["create"], [CORE], ["endpoints/restricted"]),
        eventsRule(),
      ],
    },
    {
      name: "endpointslice-controller",
      rules: [
        res(["get", "list", "watch"], [CORE], ["services", "pods", "nodes"]),
        // Slices are owned by their Service with blockOwnerDeletion, which needs this.
        res(["update"], [CORE], ["services/finalizers"]),
        res(["get", "list", "create", "update", "delete"], [DISCOVERY], ["endpointslices"]),
        eventsRule(),
      ],
    },
    {
      name: "endpointslicemirroring-controller",
      rules: [
        res(["get", "list", "watch"], [CORE], ["services", "endpoints"]),
        res(["update"], [CORE], ["services/finalizers"]),
        res(["update"], [CORE], ["endpoints/finalizers"]),
        res(["get", "list", "create", "update", "delete"], [DISCOVERY], ["endpointslices"]),
        eventsRule(),
      ],
    },
    {
      name: "generic-garbage-collector",
      rules: [res(["get", "list", "watch", "patch", "update", "delete"], ["*"], ["*"]), eventsRule()],
    },
    {
      name: "job-controller",
      rules: [
        res(["get", "list", "watch", "update", "patch"], [BATCH], ["jobs"]),
        res(["update", "patch"], [BATCH], ["jobs/status"]),
        res(["update", "patch"], [BATCH], ["jobs/finalizers"]),
        res(["list", "watch", "create", "delete", "patch"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "namespace-controller",
      rules: [
        res(["get", "list", "watch", "delete"], [CORE], ["namespaces"]),
        res(["update"], [CORE], ["namespaces/finalize", "namespaces/status"]),
        res(["get", "list", "delete", "deletecollection"], ["*"], ["*"]),
      ],
    },
    {
      name: "node-controller",
      rules: [
        res(["get", "list", "update", "delete", "patch"], [CORE], ["nodes"]),
        res(["patch", "update"], [CORE], ["nodes/status"]),
        res(["patch", "update"], [CORE], ["pods/status"]),
        res(["list", "get", "delete"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "persistent-volume-binder",
      rules: [
        res(["get", "list", "watch", "update", "create", "delete"], [CORE], ["persistentvolumes"]),
        res(["update"], [CORE], ["persistentvolumes/status"]),
        res(["get", "list", "watch", "update"], [CORE], ["persistentvolumeclaims"]),
        res(["update"], [CORE], ["persistentvolumeclaims/status"]),
        res(["list", "watch", "get", "create", "delete"], [CORE], ["pods"]),
        res(["get", "list", "watch"], [STORAGE], ["storageclasses"]),
        res(["get", "list"], [CORE], ["nodes"]),
        res(["watch"], [CORE], ["events"]),
        eventsRule(),
      ],
    },
    {
      // kubeling's local-path provisioner (rancher's local-path-provisioner-role, narrowed to
      // what it does): claims and volumes, its default class, nodes' root dirs, helper pods.
      name: "local-path-provisioner",
      rules: [
        res(["get", "list", "watch"], [CORE], ["nodes", "persistentvolumeclaims"]),
        res(["get", "list", "watch", "create", "delete"], [CORE], ["persistentvolumes"]),
        res(["get", "list", "watch", "create"], [STORAGE], ["storageclasses"]),
        res(["get", "list", "watch", "create", "delete"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "pod-garbage-collector",
      rules: [
        res(["list", "watch", "delete"], [CORE], ["pods"]),
        res(["get", "list"], [CORE], ["nodes"]),
        res(["patch"], [CORE], ["pods/status"]),
      ],
    },
    {
      name: "pv-protection-controller",
      rules: [res(["get", "list", "watch", "update"], [CORE], ["persistentvolumes"]), eventsRule()],
    },
    {
      name: "pvc-protection-controller",
      rules: [
        res(["get", "list", "watch", "update"], [CORE], ["persistentvolumeclaims"]),
        res(["list", "watch", "get"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "replicaset-controller",
      rules: [
        res(["get", "list", "watch", "update"], [APPS, EXTENSIONS], ["replicasets"]),
        res(["update"], [APPS, EXTENSIONS], ["replicasets/status"]),
        res(["update"], [APPS, EXTENSIONS], ["replicasets/finalizers"]),
        res(["list", "watch", "patch", "create", "delete"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "replication-controller",
      rules: [
        res(["get", "list", "watch", "update"], [CORE], ["replicationcontrollers"]),
        res(["update"], [CORE], ["replicationcontrollers/status"]),
        res(["update"], [CORE], ["replicationcontrollers/finalizers"]),
        res(["list", "watch", "patch", "create", "delete"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "resourcequota-controller",
      rules: [
        // Quota counts anything, so it reads everything.
        res(["list", "watch"], ["*"], ["*"]),
        res(["update"], [CORE], ["resourcequotas/status"]),
        eventsRule(),
      ],
    },
    {
      name: "statefulset-controller",
      rules: [
        res(["list", "watch"], [CORE], ["pods"]),
        res(["get", "list", "watch"], [APPS], ["statefulsets"]),
        res(["update"], [APPS], ["statefulsets/status"]),
        res(["update"], [APPS], ["statefulsets/finalizers"]),
        res(["get", "create", "delete", "update", "patch"], [CORE], ["pods"]),
        res(["get", "create", "delete", "update", "patch", "list", "watch"], [APPS], ["controllerrevisions"]),
        res(["get", "create"], [CORE], ["persistentvolumeclaims"]),
        // StatefulSetAutoDeletePVC (GA): the retention policy's owner references and deletions.
        res(["update", "delete"], [CORE], ["persistentvolumeclaims"]),
        eventsRule(),
      ],
    },
    {
      name: "root-ca-cert-publisher",
      rules: [res(["create", "update"], [CORE], ["configmaps"]), eventsRule()],
    },
    { name: "service-account-controller", rules: [res(["create"], [CORE], ["serviceaccounts"]), eventsRule()] },
    {
      name: "taint-eviction-controller",
      rules: [
        res(["patch", "update"], [CORE], ["pods/status"]),
        res(["list", "get", "delete"], [CORE], ["pods"]),
        eventsRule(),
      ],
    },
    {
      name: "ttl-after-finished-controller",
      rules: [res(["get", "list", "watch", "delete"], [BATCH], ["jobs"]), eventsRule()],
    },
  ];
}

/** The bootstrap ClusterRoles, in upstream's order (user-facing, system, controllers). */
export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole("cluster-admin", [res(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
    clusterRole("system:discovery", [
      urls(
        ["get"],
        [
          "/livez",
          "/readyz",
          "/healthz",
          "/version",
          "/version/",
          "/openapi",
          "/openapi/*",
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
        ],
      ),
    ]),
    clusterRole("system:monitoring", [
      urls(
        ["get"],
        ["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"],
      ),
    ]),
    clusterRole("system:basic-user", [
      res(["create"], [AUTHORIZATION], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      res(["create"], [AUTHENTICATION], ["selfsubjectreviews"]),
    ]),
    clusterRole("system:public-info-viewer", [
      urls(["get"], ["/livez", "/readyz", "/healthz", "/version", "/version/"]),
    ]),
    // Service account issuer discovery (upstream: bound to every ServiceAccount only).
    clusterRole("system:service-account-issuer-discovery", [
      urls(
        ["get"],
        [
          "/.well-known/openid-configuration",
          "/.well-known/openid-configuration/",
          "/openid/v1/jwks",
          "/openid/v1/jwks/",
        ],
      ),
    ]),
    clusterRole("admin", [], { aggregate: AGGREGATE_TO_ADMIN }),
    clusterRole("edit", [], { labels: { [AGGREGATE_TO_ADMIN]: "true" }, aggregate: AGGREGATE_TO_EDIT }),
    clusterRole("view", [], { labels: { [AGGREGATE_TO_EDIT]: "true" }, aggregate: AGGREGATE_TO_VIEW }),
    clusterRole(
      "system:aggregate-to-admin",
      [
        res(["create"], [AUTHORIZATION], ["localsubjectaccessreviews"]),
        res(READ_WRITE, [RBAC_GROUP], ["roles", "rolebindings"]),
      ],
      { labels: { [AGGREGATE_TO_ADMIN]: "true" } },
    ),
    clusterRole("system:aggregate-to-edit", aggregateToEditRules(), { labels: { [AGGREGATE_TO_EDIT]: "true" } }),
    clusterRole("system:aggregate-to-view", aggregateToViewRules(), { labels: { [AGGREGATE_TO_VIEW]: "true" } }),
    clusterRole("system:node", nodeRules()),
    clusterRole("system:node-proxier", [
      res(["list", "watch"], [CORE], ["services", "endpoints"]),
      res(READ, [CORE], ["nodes"]),
      eventsRule(),
      res(["list", "watch"], [DISCOVERY], ["endpointslices"]),
    ]),
    // kubeling's: kubeling-proxy is also the host's load balancer (proxy/loadbalancer.ts), the
    // part of a cloud provider's service controller that writes status.loadBalancer.ingress.
    clusterRole("system:kubeling:load-balancer", [
      res(["get", "list", "watch"], [CORE], ["services"]),
      res(["patch", "update"], [CORE], ["services/status"]),
      eventsRule(),
    ]),
    clusterRole("system:kubelet-api-admin", [
      res(READ, [CORE], ["nodes"]),
      res(["proxy"], [CORE], ["nodes"]),
      res(["*"], [CORE], ["nodes/proxy", "nodes/metrics", "nodes/spec", "nodes/stats", "nodes/log"]),
    ]),
    clusterRole("system:auth-delegator", [
      res(["create"], [AUTHENTICATION], ["tokenreviews"]),
      res(["create"], [AUTHORIZATION], ["subjectaccessreviews"]),
    ]),
    clusterRole("system:kube-controller-manager", kubeControllerManagerRules()),
    clusterRole("system:kube-scheduler", kubeSchedulerRules()),
    // The scheduler's VolumeBinding: pre-binds PVs, sets a claim's selected node (upstream).
    clusterRole("system:volume-scheduler", [
      res([...READ, "update", "patch"], [CORE], ["persistentvolumes"]),
      res(READ, [STORAGE], ["storageclasses"]),
      res([...READ, "update", "patch"], [CORE], ["persistentvolumeclaims"]),
    ]),
    clusterRole("system:kube-dns", [res(["list", "watch"], [CORE], ["endpoints", "services"])]),
    // kubeling-dns keeps the kube-dns Service and Endpoints itself (kubeadm creates them once).
    // create cannot be narrowed to a name; reads and writes are.
    clusterRole(KUBE_DNS_PUBLISHER_ROLE, [
      res(["create"], [CORE], ["services", "endpoints"]),
      res(["get", "update", "patch"], [CORE], ["services"], ["kube-dns"]),
      res(["get", "update", "patch"], [CORE], ["endpoints"], ["kube-dns"]),
    ]),
    ...controllerRoles().map((c) => clusterRole(`${CONTROLLER_ROLE_PREFIX}${c.name}`, c.rules)),
  ];
}

/** The bootstrap ClusterRoleBindings. */
export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterBinding("cluster-admin", [group(SYSTEM_PRIVILEGED_GROUP)]),
    clusterBinding("system:monitoring", [group(MONITORING_GROUP)]),
    clusterBinding("system:discovery", [group(ALL_AUTHENTICATED)]),
    clusterBinding("system:basic-user", [group(ALL_AUTHENTICATED)]),
    clusterBinding("system:public-info-viewer", [group(ALL_AUTHENTICATED), group(ALL_UNAUTHENTICATED)]),
    clusterBinding("system:service-account-issuer-discovery", [group(ALL_SERVICE_ACCOUNTS_GROUP)]),
    clusterBinding("system:node-proxier", [user(KUBE_PROXY)]),
    clusterBinding("system:kubeling:load-balancer", [user(KUBE_PROXY)]),
    // kubeling-proxy's /metrics is behind delegated authentication and authorization, as the
    // scheduler's: it asks TokenReviews and SubjectAccessReviews (upstream's kube-proxy serves
    // its metrics unauthenticated on loopback).
    clusterBinding("system:auth-delegator", [user(KUBE_PROXY)], "system:kubeling:kube-proxy-auth-delegator"),
    clusterBinding("system:kube-controller-manager", [user(KUBE_CONTROLLER_MANAGER)]),
    // Upstream's DNS runs in a pod as kube-system/kube-dns; kubeling-dns runs on the host under
    // its own certificate, so that user is a subject too.
    clusterBinding("system:kube-dns", [serviceAccount("kube-system", "kube-dns"), user(KUBE_DNS)]),
    clusterBinding(KUBE_DNS_PUBLISHER_ROLE, [user(KUBE_DNS)]),
    clusterBinding("system:kube-scheduler", [user(KUBE_SCHEDULER)]),
    clusterBinding("system:volume-scheduler", [user(KUBE_SCHEDULER)]),
    // Deprecated since the Node authorizer (1.7): kept without subjects, as upstream, so that
    // kubelets get their permissions from the Node authorizer only.
    clusterBinding("system:node", []),
    // Upstream binds each controller role to the controller's service account (kube-controller-
    // manager --use-service-account-credentials). kubeling's controller-manager runs every
    // controller under its own identity, so that identity is a subject too.
    ...controllerRoles().map((c) =>
      clusterBinding(`${CONTROLLER_ROLE_PREFIX}${c.name}`, [
        serviceAccount("kube-system", c.name),
        user(KUBE_CONTROLLER_MANAGER),
      ]),
    ),
  ];
}
