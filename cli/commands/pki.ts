// kubeling pki init: the cluster PKI of pkg/pki/cluster.ts, as `kubeadm init phase certs all`
// plus `kubeadm init phase kubeconfig all` make it, and the API server's EncryptionConfiguration,
// for the compose cluster's one-shot pki service (scripts/up.ts and the test harness call
// ensureClusterPki themselves). Idempotent: run on every start, it keeps what still fits and
// makes what is missing.

import { resolve } from "node:path";
import { ensureClusterPki, exportComponent, isExportComponent } from "#pkg/pki/cluster.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";

export interface PkiInitOptions {
  dir: string;
  server?: string;
  node: string[];
  apiserverCertExtraSans: string[];
  etcdCertExtraSans: string[];
  serviceCidr: string;
  serviceDnsDomain: string;
  export: string[];
}

export async function runPkiInit(ctx: CliContext, o: PkiInitOptions): Promise<number> {
  const exports = o.export.map((e) => {
    const eq = e.indexOf("=");
    if (eq <= 0 || eq === e.length - 1) throw new CliError(`error: --export wants <component>=<dir>, got "${e}"`);
    const component = e.slice(0, eq);
    if (!isExportComponent(component)) {
      throw new CliError(
        `error: --export: unknown component "${component}" (etcd, admin, scheduler, controller-manager, kube-proxy, kube-dns, kubelet:<node>)`,
      );
    }
    return { component, dir: e.slice(eq + 1) };
  });
  let pki: Awaited<ReturnType<typeof ensureClusterPki>>;
  try {
    pki = await ensureClusterPki({
      dir: resolve(o.dir),
      ...(o.server ? { server: o.server } : {}),
      nodes: o.node,
      apiserverSANs: o.apiserverCertExtraSans,
      etcdSANs: o.etcdCertExtraSans,
      serviceClusterIPRange: o.serviceCidr,
      dnsDomain: o.serviceDnsDomain,
      report: (line) => ctx.print(`${line}\n`),
    });
    for (const e of exports) {
      for (const f of exportComponent(pki, e.component, resolve(e.dir))) ctx.print(`[export] ${e.component}: ${f}\n`);
    }
  } catch (err) {
    throw new CliError(`error: ${(err as Error).message}`);
  }
  return 0;
}
