// Annotations kubeling's kubelet publishes on its Node for other components to read (upstream's
// kubelet has its own, e.g. volumes.kubernetes.io/controller-managed-attach-detach).

/**
 * The kubelet's --root-dir, an absolute path on the node's host. The local-path provisioner makes
 * its volumes' directories under <root-dir>/local-path (through helper pods the kubelet runs).
 */
export const ANN_KUBELET_ROOT_DIR = "kubeling.io/kubelet-root-dir";
