// x509 client-certificate authentication (--client-ca-file) lives in pkg/server/x509.ts, shared
// with the delegated servers of the kubelet, the scheduler and the controller-manager.

export { X509Authenticator } from "#pkg/server/x509.js";
