// core/v1 kinds, shaped as upstream (k8s.io/api/core/v1/types.go) for the subset kubeling serves.
// Each schema is the single source of truth: TS types are Static<> of it.

import type { KubeObject, ObjectMeta } from "../meta.js";
import {
  AnyJson,
  Bool,
  Conditions,
  Int,
  IntOrString,
  List,
  MapList,
  MapOf,
  Obj,
  Opt,
  Quantity,
  type Static,
  Str,
  StrMap,
  Time,
  Type,
} from "../schema/helpers.js";
import { type KindBody, KindSchema, LabelSelectorSchema, ObjectMetaSchema } from "./meta.js";

// ---------------------------------------------------------------- references

export const ObjectReferenceSchema = Obj({
  kind: Opt(Str()),
  namespace: Opt(Str()),
  name: Opt(Str()),
  uid: Opt(Str()),
  apiVersion: Opt(Str()),
  resourceVersion: Opt(Str()),
  fieldPath: Opt(Str()),
});
export type ObjectReference = Static<typeof ObjectReferenceSchema>;

export const LocalObjectReferenceSchema = Obj({ name: Opt(Str()) });
export type LocalObjectReference = Static<typeof LocalObjectReferenceSchema>;

/** A Secret by name and namespace (a PV's secretRefs). */
export const SecretReferenceSchema = Obj({ name: Opt(Str()), namespace: Opt(Str()) });

// ---------------------------------------------------------------- volumes

export const KeyToPathSchema = Obj({ key: Str(), path: Str(), mode: Opt(Int()) });
export type KeyToPath = Static<typeof KeyToPathSchema>;

export const EmptyDirVolumeSourceSchema = Obj({ medium: Opt(Str()), sizeLimit: Opt(Quantity()) });
export const HostPathVolumeSourceSchema = Obj({ path: Str(), type: Opt(Str()) });
export const ConfigMapVolumeSourceSchema = Obj({
  name: Opt(Str()),
  items: Opt(List(KeyToPathSchema)),
  defaultMode: Opt(Int()),
  optional: Opt(Bool()),
});
export const SecretVolumeSourceSchema = Obj({
  secretName: Opt(Str()),
  items: Opt(List(KeyToPathSchema)),
  defaultMode: Opt(Int()),
  optional: Opt(Bool()),
});
export const PersistentVolumeClaimVolumeSourceSchema = Obj({ claimName: Str(), readOnly: Opt(Bool()) });

export const ObjectFieldSelectorSchema = Obj({ apiVersion: Opt(Str()), fieldPath: Str() });
export const ResourceFieldSelectorSchema = Obj({
  containerName: Opt(Str()),
  resource: Str(),
  divisor: Opt(Quantity()),
});

export const DownwardAPIVolumeFileSchema = Obj({
  path: Str(),
  fieldRef: Opt(ObjectFieldSelectorSchema),
  resourceFieldRef: Opt(ResourceFieldSelectorSchema),
  mode: Opt(Int()),
});
export const DownwardAPIVolumeSourceSchema = Obj({
  items: Opt(List(DownwardAPIVolumeFileSchema)),
  defaultMode: Opt(Int()),
});

export const VolumeProjectionSchema = Obj({
  configMap: Opt(Obj({ name: Opt(Str()), items: Opt(List(KeyToPathSchema)), optional: Opt(Bool()) })),
  secret: Opt(Obj({ name: Opt(Str()), items: Opt(List(KeyToPathSchema)), optional: Opt(Bool()) })),
  downwardAPI: Opt(Obj({ items: Opt(List(DownwardAPIVolumeFileSchema)) })),
  serviceAccountToken: Opt(Obj({ audience: Opt(Str()), expirationSeconds: Opt(Int()), path: Str() })),
  clusterTrustBundle: Opt(
    Obj({
      name: Opt(Str()),
      signerName: Opt(Str()),
      labelSelector: Opt(LabelSelectorSchema),
      optional: Opt(Bool()),
      path: Str(),
    }),
  ),
  podCertificate: Opt(
    Obj({
      signerName: Str(),
      keyType: Str("RSA3072, RSA4096, ECDSAP256, ECDSAP384, ECDSAP521 or ED25519"),
      maxExpirationSeconds: Opt(Int()),
      credentialBundlePath: Opt(Str()),
      keyPath: Opt(Str()),
      certificateChainPath: Opt(Str()),
      userAnnotations: Opt(StrMap()),
    }),
  ),
});
export const ProjectedVolumeSourceSchema = Obj({
  sources: Opt(List(VolumeProjectionSchema)),
  defaultMode: Opt(Int()),
});

// ---------------------------------------------------------------- in-tree volume sources
// Sources kubeling's kubelet cannot mount, declared with upstream's fields so that they are checked
// for unknown fields and carried through protobuf. Those a PV shares with a pod come first; the PV
// variants with a namespaced secretRef are in storage.ts.

export const AWSElasticBlockStoreVolumeSourceSchema = Obj({
  volumeID: Str(),
  fsType: Opt(Str()),
  partition: Opt(Int()),
  readOnly: Opt(Bool()),
});
export const GCEPersistentDiskVolumeSourceSchema = Obj({
  pdName: Str(),
  fsType: Opt(Str()),
  partition: Opt(Int()),
  readOnly: Opt(Bool()),
});
export const FCVolumeSourceSchema = Obj({
  targetWWNs: Opt(List(Str())),
  lun: Opt(Int()),
  fsType: Opt(Str()),
  readOnly: Opt(Bool()),
  wwids: Opt(List(Str())),
});
export const FlockerVolumeSourceSchema = Obj({ datasetName: Opt(Str()), datasetUUID: Opt(Str()) });
export const VsphereVirtualDiskVolumeSourceSchema = Obj({
  volumePath: Str(),
  fsType: Opt(Str()),
  storagePolicyName: Opt(Str()),
  storagePolicyID: Opt(Str()),
});
export const QuobyteVolumeSourceSchema = Obj({
  registry: Str(),
  volume: Str(),
  readOnly: Opt(Bool()),
  user: Opt(Str()),
  group: Opt(Str()),
  tenant: Opt(Str()),
});
export const AzureDiskVolumeSourceSchema = Obj({
  diskName: Str(),
  diskURI: Str(),
  cachingMode: Opt(Str("None, ReadOnly or ReadWrite")),
  fsType: Opt(Str()),
  readOnly: Opt(Bool()),
  kind: Opt(Str("Shared, Dedicated or Managed")),
});
export const PhotonPersistentDiskVolumeSourceSchema = Obj({ pdID: Str(), fsType: Opt(Str()) });
export const PortworxVolumeSourceSchema = Obj({ volumeID: Str(), fsType: Opt(Str()), readOnly: Opt(Bool()) });

const ISCSICommon = {
  targetPortal: Str(),
  iqn: Str(),
  lun: Int(),
  iscsiInterface: Opt(Str()),
  fsType: Opt(Str()),
  readOnly: Opt(Bool()),
  portals: Opt(List(Str())),
  chapAuthDiscovery: Opt(Bool()),
  chapAuthSession: Opt(Bool()),
  initiatorName: Opt(Str()),
};
const RBDCommon = {
  monitors: List(Str()),
  image: Str(),
  fsType: Opt(Str()),
  pool: Opt(Str()),
  user: Opt(Str()),
  keyring: Opt(Str()),
  readOnly: Opt(Bool()),
};
const CephFSCommon = {
  monitors: List(Str()),
  path: Opt(Str()),
  user: Opt(Str()),
  secretFile: Opt(Str()),
  readOnly: Opt(Bool()),
};
const FlexCommon = { driver: Str(), fsType: Opt(Str()), readOnly: Opt(Bool()), options: Opt(StrMap()) };
const ScaleIOCommon = {
  gateway: Str(),
  system: Str(),
  sslEnabled: Opt(Bool()),
  protectionDomain: Opt(Str()),
  storagePool: Opt(Str()),
  storageMode: Opt(Str("ThickProvisioned or ThinProvisioned")),
  volumeName: Opt(Str()),
  fsType: Opt(Str()),
  readOnly: Opt(Bool()),
};
const StorageOSCommon = {
  volumeName: Opt(Str()),
  volumeNamespace: Opt(Str()),
  fsType: Opt(Str()),
  readOnly: Opt(Bool()),
};
/** The in-tree sources a PersistentVolume shares with a pod volume (same messages on the wire). */
const SHARED_IN_TREE_SOURCES = {
  awsElasticBlockStore: Opt(AWSElasticBlockStoreVolumeSourceSchema),
  azureDisk: Opt(AzureDiskVolumeSourceSchema),
  fc: Opt(FCVolumeSourceSchema),
  flocker: Opt(FlockerVolumeSourceSchema),
  gcePersistentDisk: Opt(GCEPersistentDiskVolumeSourceSchema),
  photonPersistentDisk: Opt(PhotonPersistentDiskVolumeSourceSchema),
  portworxVolume: Opt(PortworxVolumeSourceSchema),
  quobyte: Opt(QuobyteVolumeSourceSchema),
  vsphereVolume: Opt(VsphereVirtualDiskVolumeSourceSchema),
};

/** A PersistentVolume's in-tree sources (PersistentVolumeSource), their secretRef a SecretReference. */
export const PersistentVolumeInTreeSources = Obj({
  ...SHARED_IN_TREE_SOURCES,
  azureFile: Opt(Obj({ secretName: Str(), shareName: Str(), readOnly: Opt(Bool()), secretNamespace: Opt(Str()) })),
  cephfs: Opt(Obj({ ...CephFSCommon, secretRef: Opt(SecretReferenceSchema) })),
  cinder: Opt(
    Obj({ volumeID: Str(), fsType: Opt(Str()), readOnly: Opt(Bool()), secretRef: Opt(SecretReferenceSchema) }),
  ),
  flexVolume: Opt(Obj({ ...FlexCommon, secretRef: Opt(SecretReferenceSchema) })),
  glusterfs: Opt(Obj({ endpoints: Str(), path: Str(), readOnly: Opt(Bool()), endpointsNamespace: Opt(Str()) })),
  iscsi: Opt(Obj({ ...ISCSICommon, secretRef: Opt(SecretReferenceSchema) })),
  rbd: Opt(Obj({ ...RBDCommon, secretRef: Opt(SecretReferenceSchema) })),
  scaleIO: Opt(Obj({ ...ScaleIOCommon, secretRef: SecretReferenceSchema })),
  storageos: Opt(Obj({ ...StorageOSCommon, secretRef: Opt(ObjectReferenceSchema) })),
});

/** A pod volume's in-tree sources (VolumeSource), their secretRef a LocalObjectReference. */
const POD_IN_TREE_SOURCES = {
  ...SHARED_IN_TREE_SOURCES,
  azureFile: Opt(Obj({ secretName: Str(), shareName: Str(), readOnly: Opt(Bool()) })),
  cephfs: Opt(Obj({ ...CephFSCommon, secretRef: Opt(LocalObjectReferenceSchema) })),
  cinder: Opt(
    Obj({ volumeID: Str(), fsType: Opt(Str()), readOnly: Opt(Bool()), secretRef: Opt(LocalObjectReferenceSchema) }),
  ),
  flexVolume: Opt(Obj({ ...FlexCommon, secretRef: Opt(LocalObjectReferenceSchema) })),
  gitRepo: Opt(Obj({ repository: Str(), revision: Opt(Str()), directory: Opt(Str()) })),
  glusterfs: Opt(Obj({ endpoints: Str(), path: Str(), readOnly: Opt(Bool()) })),
  iscsi: Opt(Obj({ ...ISCSICommon, secretRef: Opt(LocalObjectReferenceSchema) })),
  rbd: Opt(Obj({ ...RBDCommon, secretRef: Opt(LocalObjectReferenceSchema) })),
  scaleIO: Opt(Obj({ ...ScaleIOCommon, secretRef: LocalObjectReferenceSchema })),
  storageos: Opt(Obj({ ...StorageOSCommon, secretRef: Opt(LocalObjectReferenceSchema) })),
};

export const VolumeSchema = Obj({
  name: Str(),
  emptyDir: Opt(EmptyDirVolumeSourceSchema),
  hostPath: Opt(HostPathVolumeSourceSchema),
  configMap: Opt(ConfigMapVolumeSourceSchema),
  secret: Opt(SecretVolumeSourceSchema),
  persistentVolumeClaim: Opt(PersistentVolumeClaimVolumeSourceSchema),
  projected: Opt(ProjectedVolumeSourceSchema),
  downwardAPI: Opt(DownwardAPIVolumeSourceSchema),
  nfs: Opt(Obj({ server: Str(), path: Str(), readOnly: Opt(Bool()) })),
  csi: Opt(
    Obj({
      driver: Str(),
      readOnly: Opt(Bool()),
      fsType: Opt(Str()),
      volumeAttributes: Opt(StrMap()),
      nodePublishSecretRef: Opt(LocalObjectReferenceSchema),
    }),
  ),
  // The claim template's spec is a PersistentVolumeClaimSpec (storage.ts, which imports this
  // module): opaque here, its protobuf message gets the PVC schema's fields (codec.ts compile).
  ephemeral: Opt(Obj({ volumeClaimTemplate: Opt(Obj({ metadata: Opt(ObjectMetaSchema), spec: AnyJson() })) })),
  image: Opt(Obj({ reference: Opt(Str()), pullPolicy: Opt(Str()) })),
  // In-tree/cloud sources kubeling cannot mount: accepted as upstream does.
  ...POD_IN_TREE_SOURCES,
});
export type Volume = Static<typeof VolumeSchema>;

/** Every volume source field (exactly one must be set). */
export const VOLUME_SOURCE_FIELDS: readonly string[] = Object.keys(VolumeSchema.properties).filter((k) => k !== "name");

// ---------------------------------------------------------------- containers

export const EnvVarSourceSchema = Obj({
  fieldRef: Opt(ObjectFieldSelectorSchema),
  resourceFieldRef: Opt(ResourceFieldSelectorSchema),
  configMapKeyRef: Opt(Obj({ name: Opt(Str()), key: Str(), optional: Opt(Bool()) })),
  secretKeyRef: Opt(Obj({ name: Opt(Str()), key: Str(), optional: Opt(Bool()) })),
});
export type EnvVarSource = Static<typeof EnvVarSourceSchema>;

export const EnvVarSchema = Obj({ name: Str(), value: Opt(Str()), valueFrom: Opt(EnvVarSourceSchema) });
export type EnvVar = Static<typeof EnvVarSchema>;

export const EnvFromSourceSchema = Obj({
  prefix: Opt(Str()),
  configMapRef: Opt(Obj({ name: Opt(Str()), optional: Opt(Bool()) })),
  secretRef: Opt(Obj({ name: Opt(Str()), optional: Opt(Bool()) })),
});
export type EnvFromSource = Static<typeof EnvFromSourceSchema>;

export const ContainerPortSchema = Obj({
  name: Opt(Str()),
  containerPort: Int(),
  hostPort: Opt(Int()),
  hostIP: Opt(Str()),
  protocol: Opt(Str("TCP, UDP or SCTP; defaults to TCP")),
});
export type ContainerPort = Static<typeof ContainerPortSchema>;

export const ResourceRequirementsSchema = Obj({
  limits: Opt(MapOf(Quantity())),
  requests: Opt(MapOf(Quantity())),
  claims: Opt(MapList(Obj({ name: Str(), request: Opt(Str()) }), ["name"], { patch: false })),
});
export type ResourceRequirements = Static<typeof ResourceRequirementsSchema>;

export const VolumeMountSchema = Obj({
  name: Str(),
  mountPath: Str(),
  readOnly: Opt(Bool()),
  subPath: Opt(Str()),
  subPathExpr: Opt(Str()),
  mountPropagation: Opt(Str()),
  recursiveReadOnly: Opt(Str()),
});
export type VolumeMount = Static<typeof VolumeMountSchema>;

export const ExecActionSchema = Obj({ command: Opt(List(Str())) });
export const HTTPHeaderSchema = Obj({ name: Str(), value: Str() });
export const HTTPGetActionSchema = Obj({
  path: Opt(Str()),
  port: IntOrString(),
  host: Opt(Str()),
  scheme: Opt(Str("HTTP or HTTPS")),
  httpHeaders: Opt(List(HTTPHeaderSchema)),
});
export type HTTPGetAction = Static<typeof HTTPGetActionSchema>;
export const TCPSocketActionSchema = Obj({ port: IntOrString(), host: Opt(Str()) });
export const GRPCActionSchema = Obj({ port: Int(), service: Opt(Str()) });

export const ProbeSchema = Obj({
  exec: Opt(ExecActionSchema),
  httpGet: Opt(HTTPGetActionSchema),
  tcpSocket: Opt(TCPSocketActionSchema),
  grpc: Opt(GRPCActionSchema),
  initialDelaySeconds: Opt(Int()),
  timeoutSeconds: Opt(Int()),
  periodSeconds: Opt(Int()),
  successThreshold: Opt(Int()),
  failureThreshold: Opt(Int()),
  terminationGracePeriodSeconds: Opt(Int()),
});
export type Probe = Static<typeof ProbeSchema>;

export const LifecycleHandlerSchema = Obj({
  exec: Opt(ExecActionSchema),
  httpGet: Opt(HTTPGetActionSchema),
  tcpSocket: Opt(TCPSocketActionSchema),
  sleep: Opt(Obj({ seconds: Int() })),
});
export type LifecycleHandler = Static<typeof LifecycleHandlerSchema>;
export const LifecycleSchema = Obj({
  postStart: Opt(LifecycleHandlerSchema),
  preStop: Opt(LifecycleHandlerSchema),
  stopSignal: Opt(Str()),
});
export type Lifecycle = Static<typeof LifecycleSchema>;

export const CapabilitiesSchema = Obj({ add: Opt(List(Str())), drop: Opt(List(Str())) });
export const SELinuxOptionsSchema = Obj({ user: Opt(Str()), role: Opt(Str()), type: Opt(Str()), level: Opt(Str()) });
export const SeccompProfileSchema = Obj({ type: Str(), localhostProfile: Opt(Str()) });
export const AppArmorProfileSchema = Obj({ type: Str(), localhostProfile: Opt(Str()) });
export const WindowsSecurityContextOptionsSchema = Obj({
  gmsaCredentialSpecName: Opt(Str()),
  gmsaCredentialSpec: Opt(Str()),
  runAsUserName: Opt(Str()),
  hostProcess: Opt(Bool()),
});
export const SecurityContextSchema = Obj({
  privileged: Opt(Bool()),
  runAsUser: Opt(Int()),
  runAsGroup: Opt(Int()),
  runAsNonRoot: Opt(Bool()),
  readOnlyRootFilesystem: Opt(Bool()),
  allowPrivilegeEscalation: Opt(Bool()),
  capabilities: Opt(CapabilitiesSchema),
  seLinuxOptions: Opt(SELinuxOptionsSchema),
  windowsOptions: Opt(WindowsSecurityContextOptionsSchema),
  procMount: Opt(Str()),
  seccompProfile: Opt(SeccompProfileSchema),
  appArmorProfile: Opt(AppArmorProfileSchema),
});
export type SecurityContext = Static<typeof SecurityContextSchema>;

export const PodSecurityContextSchema = Obj({
  runAsUser: Opt(Int()),
  runAsGroup: Opt(Int()),
  runAsNonRoot: Opt(Bool()),
  fsGroup: Opt(Int()),
  supplementalGroups: Opt(List(Int())),
  supplementalGroupsPolicy: Opt(Str()),
  sysctls: Opt(List(Obj({ name: Str(), value: Str() }))),
  fsGroupChangePolicy: Opt(Str()),
  seLinuxOptions: Opt(SELinuxOptionsSchema),
  windowsOptions: Opt(WindowsSecurityContextOptionsSchema),
  seccompProfile: Opt(SeccompProfileSchema),
  appArmorProfile: Opt(AppArmorProfileSchema),
  seLinuxChangePolicy: Opt(Str()),
});
export type PodSecurityContext = Static<typeof PodSecurityContextSchema>;

export const ContainerSchema = Obj({
  name: Str(),
  image: Opt(Str()),
  command: Opt(List(Str())),
  args: Opt(List(Str())),
  workingDir: Opt(Str()),
  ports: Opt(MapList(ContainerPortSchema, ["containerPort", "protocol"])),
  envFrom: Opt(List(EnvFromSourceSchema)),
  env: Opt(MapList(EnvVarSchema, ["name"])),
  resources: Opt(ResourceRequirementsSchema),
  restartPolicy: Opt(Str('only "Always", for sidecar init containers')),
  volumeMounts: Opt(MapList(VolumeMountSchema, ["mountPath"])),
  livenessProbe: Opt(ProbeSchema),
  readinessProbe: Opt(ProbeSchema),
  startupProbe: Opt(ProbeSchema),
  lifecycle: Opt(LifecycleSchema),
  terminationMessagePath: Opt(Str()),
  terminationMessagePolicy: Opt(Str("File or FallbackToLogsOnError")),
  imagePullPolicy: Opt(Str("Always, Never or IfNotPresent")),
  securityContext: Opt(SecurityContextSchema),
  stdin: Opt(Bool()),
  stdinOnce: Opt(Bool()),
  tty: Opt(Bool()),
  resizePolicy: Opt(List(Obj({ resourceName: Str(), restartPolicy: Str() }))),
  volumeDevices: Opt(MapList(Obj({ name: Str(), devicePath: Str() }), ["devicePath"])),
  restartPolicyRules: Opt(
    List(
      Obj({
        action: Str("Restart"),
        exitCodes: Opt(Obj({ operator: Str("In or NotIn"), values: Opt(List(Int())) })),
      }),
    ),
  ),
});
export type Container = Static<typeof ContainerSchema>;

/**
 * An ephemeral container (kubectl debug): a Container's fields (upstream's embedded
 * EphemeralContainerCommon, inline in JSON) and the container whose PID namespace it joins.
 * Added through pods/{name}/ephemeralcontainers only; validation forbids the fields an
 * ephemeral container may not have (ports, probes, resources, lifecycle...).
 */
export const EphemeralContainerSchema = Obj({
  ...ContainerSchema.properties,
  targetContainerName: Opt(Str()),
});
export type EphemeralContainer = Static<typeof EphemeralContainerSchema>;

// ---------------------------------------------------------------- scheduling

export const NodeSelectorRequirementSchema = Obj({
  key: Str(),
  operator: Str("In, NotIn, Exists, DoesNotExist, Gt or Lt"),
  values: Opt(List(Str())),
});
export type NodeSelectorRequirement = Static<typeof NodeSelectorRequirementSchema>;

export const NodeSelectorTermSchema = Obj({
  matchExpressions: Opt(List(NodeSelectorRequirementSchema)),
  matchFields: Opt(List(NodeSelectorRequirementSchema)),
});
export type NodeSelectorTerm = Static<typeof NodeSelectorTermSchema>;

export const NodeSelectorSchema = Obj({ nodeSelectorTerms: List(NodeSelectorTermSchema) });
export type NodeSelector = Static<typeof NodeSelectorSchema>;

export const PreferredSchedulingTermSchema = Obj({ weight: Int(), preference: NodeSelectorTermSchema });
export type PreferredSchedulingTerm = Static<typeof PreferredSchedulingTermSchema>;

export const NodeAffinitySchema = Obj({
  requiredDuringSchedulingIgnoredDuringExecution: Opt(NodeSelectorSchema),
  preferredDuringSchedulingIgnoredDuringExecution: Opt(List(PreferredSchedulingTermSchema)),
});
export type NodeAffinity = Static<typeof NodeAffinitySchema>;

export const PodAffinityTermSchema = Obj({
  labelSelector: Opt(LabelSelectorSchema),
  namespaces: Opt(List(Str())),
  namespaceSelector: Opt(LabelSelectorSchema),
  topologyKey: Str(),
  matchLabelKeys: Opt(List(Str())),
  mismatchLabelKeys: Opt(List(Str())),
});
export type PodAffinityTerm = Static<typeof PodAffinityTermSchema>;

export const WeightedPodAffinityTermSchema = Obj({ weight: Int(), podAffinityTerm: PodAffinityTermSchema });
export type WeightedPodAffinityTerm = Static<typeof WeightedPodAffinityTermSchema>;

export const PodAffinitySchema = Obj({
  requiredDuringSchedulingIgnoredDuringExecution: Opt(List(PodAffinityTermSchema)),
  preferredDuringSchedulingIgnoredDuringExecution: Opt(List(WeightedPodAffinityTermSchema)),
});
export type PodAffinity = Static<typeof PodAffinitySchema>;

export const AffinitySchema = Obj({
  nodeAffinity: Opt(NodeAffinitySchema),
  podAffinity: Opt(PodAffinitySchema),
  podAntiAffinity: Opt(PodAffinitySchema),
});
export type Affinity = Static<typeof AffinitySchema>;

export const TolerationSchema = Obj({
  key: Opt(Str()),
  operator: Opt(Str("Exists or Equal (default)")),
  value: Opt(Str()),
  effect: Opt(Str("NoSchedule, PreferNoSchedule or NoExecute; empty matches all")),
  tolerationSeconds: Opt(Int()),
});
export type Toleration = Static<typeof TolerationSchema>;

export const TopologySpreadConstraintSchema = Obj({
  maxSkew: Int(),
  topologyKey: Str(),
  whenUnsatisfiable: Str("DoNotSchedule or ScheduleAnyway"),
  labelSelector: Opt(LabelSelectorSchema),
  minDomains: Opt(Int()),
  nodeAffinityPolicy: Opt(Str()),
  nodeTaintsPolicy: Opt(Str()),
  matchLabelKeys: Opt(List(Str())),
});

export const HostAliasSchema = Obj({ ip: Str(), hostnames: Opt(List(Str())) });
export const PodDNSConfigSchema = Obj({
  nameservers: Opt(List(Str())),
  searches: Opt(List(Str())),
  options: Opt(List(Obj({ name: Opt(Str()), value: Opt(Str()) }))),
});

// ---------------------------------------------------------------- pod

/** k8s.io/api/core/v1 PodResourceClaim: a DRA ResourceClaim of the pod, by name or from a template. */
export const PodResourceClaimSchema = Obj({
  name: Str(),
  resourceClaimName: Opt(Str()),
  resourceClaimTemplateName: Opt(Str()),
});

export const PodSpecSchema = Obj({
  volumes: Opt(MapList(VolumeSchema, ["name"], { retainKeys: true })),
  initContainers: Opt(MapList(ContainerSchema, ["name"])),
  containers: MapList(ContainerSchema, ["name"]),
  restartPolicy: Opt(Str("Always, OnFailure or Never")),
  terminationGracePeriodSeconds: Opt(Int()),
  activeDeadlineSeconds: Opt(Int()),
  dnsPolicy: Opt(Str("ClusterFirst, ClusterFirstWithHostNet, Default or None")),
  nodeSelector: Opt(StrMap()),
  serviceAccountName: Opt(Str()),
  serviceAccount: Opt(Str("deprecated alias of serviceAccountName")),
  automountServiceAccountToken: Opt(Bool()),
  nodeName: Opt(Str()),
  hostNetwork: Opt(Bool()),
  hostPID: Opt(Bool()),
  hostIPC: Opt(Bool()),
  shareProcessNamespace: Opt(Bool()),
  securityContext: Opt(PodSecurityContextSchema),
  imagePullSecrets: Opt(MapList(LocalObjectReferenceSchema, ["name"])),
  hostname: Opt(Str()),
  subdomain: Opt(Str()),
  affinity: Opt(AffinitySchema),
  schedulerName: Opt(Str()),
  tolerations: Opt(List(TolerationSchema)),
  hostAliases: Opt(MapList(HostAliasSchema, ["ip"])),
  priorityClassName: Opt(Str()),
  priority: Opt(Int()),
  preemptionPolicy: Opt(Str()),
  dnsConfig: Opt(PodDNSConfigSchema),
  readinessGates: Opt(List(Obj({ conditionType: Str() }))),
  runtimeClassName: Opt(Str()),
  enableServiceLinks: Opt(Bool()),
  ephemeralContainers: Opt(MapList(EphemeralContainerSchema, ["name"])),
  overhead: Opt(MapOf(Quantity())),
  setHostnameAsFQDN: Opt(Bool()),
  os: Opt(Obj({ name: Str() })),
  hostUsers: Opt(Bool()),
  schedulingGates: Opt(MapList(Obj({ name: Str() }), ["name"])),
  resourceClaims: Opt(MapList(PodResourceClaimSchema, ["name"], { retainKeys: true })),
  resources: Opt(ResourceRequirementsSchema),
  hostnameOverride: Opt(Str()),
  topologySpreadConstraints: Opt(MapList(TopologySpreadConstraintSchema, ["topologyKey", "whenUnsatisfiable"])),
});
export type PodSpec = Static<typeof PodSpecSchema>;

export const ContainerStateWaitingSchema = Obj({ reason: Opt(Str()), message: Opt(Str()) });
export const ContainerStateRunningSchema = Obj({ startedAt: Opt(Time()) });
export const ContainerStateTerminatedSchema = Obj({
  exitCode: Int(),
  signal: Opt(Int()),
  reason: Opt(Str()),
  message: Opt(Str()),
  startedAt: Opt(Time()),
  finishedAt: Opt(Time()),
  containerID: Opt(Str()),
});
export const ContainerStateSchema = Obj({
  waiting: Opt(ContainerStateWaitingSchema),
  running: Opt(ContainerStateRunningSchema),
  terminated: Opt(ContainerStateTerminatedSchema),
});
export type ContainerState = Static<typeof ContainerStateSchema>;
export type ContainerStateWaiting = Static<typeof ContainerStateWaitingSchema>;
export type ContainerStateRunning = Static<typeof ContainerStateRunningSchema>;
export type ContainerStateTerminated = Static<typeof ContainerStateTerminatedSchema>;

/** k8s.io/api/core/v1 VolumeMountStatus. */
export const VolumeMountStatusSchema = Obj({
  name: Str(),
  mountPath: Str(),
  readOnly: Opt(Bool()),
  recursiveReadOnly: Opt(Str()),
});

/** k8s.io/api/core/v1 ContainerUser: the identities the container's first process runs with. */
export const ContainerUserSchema = Obj({
  linux: Opt(Obj({ uid: Int(), gid: Int(), supplementalGroups: Opt(List(Int())) })),
});

/** k8s.io/api/core/v1 ResourceStatus: the health of the devices allocated for one resource. */
export const ResourceStatusSchema = Obj({
  name: Str(),
  resources: Opt(
    MapList(Obj({ resourceID: Str(), health: Opt(Str("Healthy, Unhealthy or Unknown")) }), ["resourceID"], {
      patch: false,
    }),
  ),
});

export const ContainerStatusSchema = Obj({
  name: Str(),
  state: Opt(ContainerStateSchema),
  lastState: Opt(ContainerStateSchema),
  ready: Bool(),
  restartCount: Int(),
  image: Str(),
  imageID: Str(),
  containerID: Opt(Str()),
  started: Opt(Bool()),
  resources: Opt(ResourceRequirementsSchema),
  allocatedResources: Opt(MapOf(Quantity())),
  volumeMounts: Opt(MapList(VolumeMountStatusSchema, ["mountPath"])),
  user: Opt(ContainerUserSchema),
  allocatedResourcesStatus: Opt(MapList(ResourceStatusSchema, ["name"])),
  stopSignal: Opt(Str()),
});
export type ContainerStatus = Static<typeof ContainerStatusSchema>;

export const PodConditionSchema = Obj({
  type: Str("PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady, Ready, DisruptionTarget..."),
  status: Str("True, False or Unknown"),
  observedGeneration: Opt(Int()),
  lastProbeTime: Opt(Type.Union([Time(), Type.Null()])),
  lastTransitionTime: Opt(Time()),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type PodCondition = Static<typeof PodConditionSchema>;

export const PodIPSchema = Obj({ ip: Str() });
export const HostIPSchema = Obj({ ip: Str() });

export const PodStatusSchema = Obj({
  phase: Opt(Str("Pending, Running, Succeeded, Failed or Unknown")),
  conditions: Opt(Conditions(PodConditionSchema)),
  message: Opt(Str()),
  reason: Opt(Str()),
  nominatedNodeName: Opt(Str()),
  hostIP: Opt(Str()),
  hostIPs: Opt(MapList(HostIPSchema, ["ip"])),
  podIP: Opt(Str()),
  podIPs: Opt(MapList(PodIPSchema, ["ip"])),
  startTime: Opt(Time()),
  initContainerStatuses: Opt(List(ContainerStatusSchema)),
  containerStatuses: Opt(List(ContainerStatusSchema)),
  qosClass: Opt(Str("Guaranteed, Burstable or BestEffort")),
  observedGeneration: Opt(Int()),
  ephemeralContainerStatuses: Opt(List(ContainerStatusSchema)),
  resize: Opt(Str()),
  resourceClaimStatuses: Opt(
    MapList(Obj({ name: Str(), resourceClaimName: Opt(Str()) }), ["name"], { retainKeys: true }),
  ),
});
export type PodStatus = Static<typeof PodStatusSchema>;

export const PodSchema = KindSchema("Pod", { spec: Opt(PodSpecSchema), status: Opt(PodStatusSchema) });
export interface Pod extends KubeObject, KindBody<typeof PodSchema> {}

export const PodTemplateSpecSchema = Obj({
  metadata: Opt(ObjectMetaSchema),
  spec: Opt(PodSpecSchema),
});
export interface PodTemplateSpec extends Omit<Static<typeof PodTemplateSpecSchema>, "metadata"> {
  metadata?: ObjectMeta;
}

// ---------------------------------------------------------------- replicationcontroller

export const ReplicationControllerSpecSchema = Obj({
  replicas: Opt(Int()),
  minReadySeconds: Opt(Int()),
  // An equality selector (upstream +mapType=atomic): a patch replaces it whole.
  selector: Opt(Type.Unsafe<Record<string, string>>({ ...StrMap(), "x-kubernetes-map-type": "atomic" })),
  template: Opt(PodTemplateSpecSchema),
});
export type ReplicationControllerSpec = Static<typeof ReplicationControllerSpecSchema>;

export const ReplicationControllerConditionSchema = Obj({
  type: Str(),
  status: Str("True, False or Unknown"),
  lastTransitionTime: Opt(Time()),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type ReplicationControllerCondition = Static<typeof ReplicationControllerConditionSchema>;

export const ReplicationControllerStatusSchema = Obj({
  replicas: Int(),
  fullyLabeledReplicas: Opt(Int()),
  readyReplicas: Opt(Int()),
  availableReplicas: Opt(Int()),
  observedGeneration: Opt(Int()),
  conditions: Opt(Conditions(ReplicationControllerConditionSchema)),
});
export type ReplicationControllerStatus = Static<typeof ReplicationControllerStatusSchema>;

export const ReplicationControllerSchema = KindSchema("ReplicationController", {
  spec: Opt(ReplicationControllerSpecSchema),
  status: Opt(ReplicationControllerStatusSchema),
});
export interface ReplicationController extends KubeObject, KindBody<typeof ReplicationControllerSchema> {}

export const BindingSchema = KindSchema("Binding", { target: ObjectReferenceSchema });
export interface Binding extends KubeObject, KindBody<typeof BindingSchema> {}

// ---------------------------------------------------------------- node

export const TaintSchema = Obj({
  key: Str(),
  value: Opt(Str()),
  effect: Str("NoSchedule, PreferNoSchedule or NoExecute"),
  timeAdded: Opt(Time()),
});
export type Taint = Static<typeof TaintSchema>;

/** k8s.io/api/core/v1 NodeConfigSource (the retired DynamicKubeletConfig): a ConfigMap to read. */
export const NodeConfigSourceSchema = Obj({
  configMap: Opt(
    Obj({
      namespace: Str(),
      name: Str(),
      uid: Opt(Str()),
      resourceVersion: Opt(Str()),
      kubeletConfigKey: Str(),
    }),
  ),
});

export const NodeSpecSchema = Obj({
  podCIDR: Opt(Str()),
  podCIDRs: Opt(Type.Array(Str(), { "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" })),
  providerID: Opt(Str()),
  unschedulable: Opt(Bool()),
  taints: Opt(List(TaintSchema)),
  configSource: Opt(NodeConfigSourceSchema),
  externalID: Opt(Str()),
});
export type NodeSpec = Static<typeof NodeSpecSchema>;

export const NodeConditionSchema = Obj({
  type: Str("Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable"),
  status: Str(),
  lastHeartbeatTime: Opt(Time()),
  lastTransitionTime: Opt(Time()),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type NodeCondition = Static<typeof NodeConditionSchema>;

export const NodeAddressSchema = Obj({ type: Str("Hostname, InternalIP, ExternalIP..."), address: Str() });
export type NodeAddress = Static<typeof NodeAddressSchema>;

export const NodeSystemInfoSchema = Obj({
  machineID: Str(),
  systemUUID: Str(),
  bootID: Str(),
  kernelVersion: Str(),
  osImage: Str(),
  containerRuntimeVersion: Str(),
  kubeletVersion: Str(),
  kubeProxyVersion: Str(),
  operatingSystem: Str(),
  architecture: Str(),
  swap: Opt(Obj({ capacity: Opt(Int()) })),
});
export type NodeSystemInfo = Static<typeof NodeSystemInfoSchema>;

export const NodeStatusSchema = Obj({
  capacity: Opt(MapOf(Quantity())),
  allocatable: Opt(MapOf(Quantity())),
  phase: Opt(Str()),
  conditions: Opt(Conditions(NodeConditionSchema)),
  addresses: Opt(MapList(NodeAddressSchema, ["type"])),
  daemonEndpoints: Opt(Obj({ kubeletEndpoint: Opt(Obj({ Port: Int() })) })),
  nodeInfo: Opt(NodeSystemInfoSchema),
  images: Opt(List(Obj({ names: Opt(List(Str())), sizeBytes: Opt(Int()) }))),
  volumesInUse: Opt(List(Str())),
  volumesAttached: Opt(List(Obj({ name: Str(), devicePath: Str() }))),
  config: Opt(
    Obj({
      assigned: Opt(NodeConfigSourceSchema),
      active: Opt(NodeConfigSourceSchema),
      lastKnownGood: Opt(NodeConfigSourceSchema),
      error: Opt(Str()),
    }),
  ),
  runtimeHandlers: Opt(
    List(
      Obj({
        name: Opt(Str("empty for the default runtime handler")),
        features: Opt(Obj({ recursiveReadOnlyMounts: Opt(Bool()), userNamespaces: Opt(Bool()) })),
      }),
    ),
  ),
  features: Opt(Obj({ supplementalGroupsPolicy: Opt(Bool()) })),
  declaredFeatures: Opt(List(Str())),
});
export type NodeStatus = Static<typeof NodeStatusSchema>;

export const NodeSchema = KindSchema("Node", { spec: Opt(NodeSpecSchema), status: Opt(NodeStatusSchema) });
export interface Node extends KubeObject, KindBody<typeof NodeSchema> {}

// ---------------------------------------------------------------- service, endpoints

export const ServicePortSchema = Obj({
  name: Opt(Str()),
  protocol: Opt(Str("TCP, UDP or SCTP; defaults to TCP")),
  appProtocol: Opt(Str()),
  port: Int(),
  targetPort: Opt(IntOrString()),
  nodePort: Opt(Int()),
});
export type ServicePort = Static<typeof ServicePortSchema>;

export const ServiceSpecSchema = Obj({
  ports: Opt(MapList(ServicePortSchema, ["port", "protocol"])),
  selector: Opt(StrMap()),
  clusterIP: Opt(Str()),
  clusterIPs: Opt(List(Str())),
  type: Opt(Str("ClusterIP, NodePort, LoadBalancer or ExternalName")),
  externalIPs: Opt(List(Str())),
  sessionAffinity: Opt(Str("ClientIP or None")),
  loadBalancerIP: Opt(Str()),
  externalName: Opt(Str()),
  externalTrafficPolicy: Opt(Str("Cluster or Local")),
  internalTrafficPolicy: Opt(Str("Cluster or Local")),
  publishNotReadyAddresses: Opt(Bool()),
  ipFamilies: Opt(List(Str())),
  ipFamilyPolicy: Opt(Str()),
  allocateLoadBalancerNodePorts: Opt(Bool()),
  loadBalancerSourceRanges: Opt(List(Str())),
  loadBalancerClass: Opt(Str()),
  healthCheckNodePort: Opt(Int()),
  trafficDistribution: Opt(Str()),
  sessionAffinityConfig: Opt(Obj({ clientIP: Opt(Obj({ timeoutSeconds: Opt(Int()) })) })),
});
export type ServiceSpec = Static<typeof ServiceSpecSchema>;

export const LoadBalancerIngressSchema = Obj({
  ip: Opt(Str()),
  hostname: Opt(Str()),
  ipMode: Opt(Str()),
  ports: Opt(List(Obj({ port: Int(), protocol: Str(), error: Opt(Str()) }))),
});
export const ServiceStatusSchema = Obj({
  loadBalancer: Opt(Obj({ ingress: Opt(List(LoadBalancerIngressSchema)) })),
  conditions: Opt(
    Conditions(
      Obj({
        type: Str(),
        status: Str(),
        observedGeneration: Opt(Int()),
        lastTransitionTime: Opt(Time()),
        reason: Opt(Str()),
        message: Opt(Str()),
      }),
    ),
  ),
});
export type ServiceStatus = Static<typeof ServiceStatusSchema>;

export const ServiceSchema = KindSchema("Service", { spec: Opt(ServiceSpecSchema), status: Opt(ServiceStatusSchema) });
export interface Service extends KubeObject, KindBody<typeof ServiceSchema> {}

export const EndpointAddressSchema = Obj({
  ip: Str(),
  hostname: Opt(Str()),
  nodeName: Opt(Str()),
  targetRef: Opt(ObjectReferenceSchema),
});
export type EndpointAddress = Static<typeof EndpointAddressSchema>;
export const EndpointPortSchema = Obj({
  name: Opt(Str()),
  port: Int(),
  protocol: Opt(Str()),
  appProtocol: Opt(Str()),
});
export type EndpointPort = Static<typeof EndpointPortSchema>;
export const EndpointSubsetSchema = Obj({
  addresses: Opt(List(EndpointAddressSchema)),
  notReadyAddresses: Opt(List(EndpointAddressSchema)),
  ports: Opt(List(EndpointPortSchema)),
});
export type EndpointSubset = Static<typeof EndpointSubsetSchema>;

export const EndpointsSchema = KindSchema("Endpoints", { subsets: Opt(List(EndpointSubsetSchema)) });
export interface Endpoints extends KubeObject, KindBody<typeof EndpointsSchema> {}

// ---------------------------------------------------------------- config

export const ConfigMapSchema = KindSchema("ConfigMap", {
  data: Opt(StrMap()),
  binaryData: Opt(StrMap("base64")),
  immutable: Opt(Bool()),
});
export interface ConfigMap extends KubeObject, KindBody<typeof ConfigMapSchema> {}

export const SecretSchema = KindSchema("Secret", {
  data: Opt(StrMap("base64-encoded values")),
  stringData: Opt(StrMap("write-only; merged into data on write")),
  type: Opt(Str()),
  immutable: Opt(Bool()),
});
export interface Secret extends KubeObject, KindBody<typeof SecretSchema> {}

export const ServiceAccountSchema = KindSchema("ServiceAccount", {
  secrets: Opt(MapList(ObjectReferenceSchema, ["name"])),
  imagePullSecrets: Opt(List(LocalObjectReferenceSchema)),
  automountServiceAccountToken: Opt(Bool()),
});
export interface ServiceAccount extends KubeObject, KindBody<typeof ServiceAccountSchema> {}

// ---------------------------------------------------------------- namespace

export const NamespaceSpecSchema = Obj({ finalizers: Opt(List(Str())) });
export type NamespaceSpec = Static<typeof NamespaceSpecSchema>;
export const NamespaceStatusSchema = Obj({
  phase: Opt(Str("Active or Terminating")),
  conditions: Opt(
    Conditions(
      Obj({
        type: Str(),
        status: Str(),
        lastTransitionTime: Opt(Time()),
        reason: Opt(Str()),
        message: Opt(Str()),
      }),
    ),
  ),
});
export type NamespaceStatus = Static<typeof NamespaceStatusSchema>;
export const NamespaceSchema = KindSchema("Namespace", {
  spec: Opt(NamespaceSpecSchema),
  status: Opt(NamespaceStatusSchema),
});
export interface Namespace extends KubeObject, KindBody<typeof NamespaceSchema> {}

// ---------------------------------------------------------------- event

export const EventSourceSchema = Obj({ component: Opt(Str()), host: Opt(Str()) });
export type EventSource = Static<typeof EventSourceSchema>;

export const EventSchema = KindSchema("Event", {
  involvedObject: ObjectReferenceSchema,
  reason: Opt(Str()),
  message: Opt(Str()),
  source: Opt(EventSourceSchema),
  firstTimestamp: Opt(Type.Union([Time(), Type.Null()])),
  lastTimestamp: Opt(Type.Union([Time(), Type.Null()])),
  count: Opt(Int()),
  type: Opt(Str("Normal or Warning")),
  eventTime: Opt(Type.Union([Str(), Type.Null()])),
  series: Opt(Obj({ count: Opt(Int()), lastObservedTime: Opt(Str()) })),
  action: Opt(Str()),
  related: Opt(ObjectReferenceSchema),
  reportingComponent: Opt(Str()),
  reportingInstance: Opt(Str()),
});
export interface Event extends KubeObject, KindBody<typeof EventSchema> {}

/** Free-form JSON escape hatch used by a few kinds' subresource bodies. */
export const RawJsonSchema = AnyJson();

// ---------------------------------------------------------------- resourcequota, limitrange

export const ScopedResourceSelectorRequirementSchema = Obj({
  scopeName: Str("Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass or CrossNamespacePodAffinity"),
  operator: Str("In, NotIn, Exists or DoesNotExist"),
  values: Opt(List(Str())),
});
export type ScopedResourceSelectorRequirement = Static<typeof ScopedResourceSelectorRequirementSchema>;

export const ResourceQuotaSpecSchema = Obj({
  hard: Opt(MapOf(Quantity())),
  scopes: Opt(List(Str())),
  scopeSelector: Opt(Obj({ matchExpressions: Opt(List(ScopedResourceSelectorRequirementSchema)) })),
});
export type ResourceQuotaSpec = Static<typeof ResourceQuotaSpecSchema>;

export const ResourceQuotaStatusSchema = Obj({
  hard: Opt(MapOf(Quantity())),
  used: Opt(MapOf(Quantity())),
});
export type ResourceQuotaStatus = Static<typeof ResourceQuotaStatusSchema>;

export const ResourceQuotaSchema = KindSchema("ResourceQuota", {
  spec: Opt(ResourceQuotaSpecSchema),
  status: Opt(ResourceQuotaStatusSchema),
});
export interface ResourceQuota extends KubeObject, KindBody<typeof ResourceQuotaSchema> {}

export const LimitRangeItemSchema = Obj({
  type: Str("Pod, Container or PersistentVolumeClaim"),
  max: Opt(MapOf(Quantity())),
  min: Opt(MapOf(Quantity())),
  default: Opt(MapOf(Quantity())),
  defaultRequest: Opt(MapOf(Quantity())),
  maxLimitRequestRatio: Opt(MapOf(Quantity())),
});
export type LimitRangeItem = Static<typeof LimitRangeItemSchema>;

export const LimitRangeSpecSchema = Obj({ limits: List(LimitRangeItemSchema) });
export type LimitRangeSpec = Static<typeof LimitRangeSpecSchema>;

export const LimitRangeSchema = KindSchema("LimitRange", { spec: Opt(LimitRangeSpecSchema) });
export interface LimitRange extends KubeObject, KindBody<typeof LimitRangeSchema> {}
