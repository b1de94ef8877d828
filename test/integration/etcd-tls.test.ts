// The API server and etcd over TLS with client certificates, as compose and `npm run up` run
// them: etcd serves https with --client-cert-auth against etcd's own CA (pkg/pki/cluster.ts);
// the API server reaches it with --etcd-cafile/--etcd-certfile/--etcd-keyfile. Without a client
// certificate, or with one the cluster CA (not etcd's) signed, etcd refuses the connection.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import { CONFIGMAPS } from "#pkg/api/resources.js";
import type { ConfigMap } from "#pkg/api/types/index.js";
import { loadKubeconfig } from "#pkg/client/kubeconfig.js";
import { type ClusterPki, ensureClusterPki } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { etcdTLSFiles, startEtcd, type TestEtcd } from "../harness/etcd.js";

describe("API server and etcd over TLS", () => {
  let dir: string;
  let pki: ClusterPki;
  let etcd: TestEtcd;
  let api: TestApiServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "etcd-tls-"));
    pki = await ensureClusterPki({ dir, nodes: ["node-1"], server: "https://127.0.0.1:1" });
    etcd = await startEtcd({ tls: etcdTLSFiles(pki) });
    api = await startApiServer({
      etcd: etcd.endpoint,
      extraArgs: [
        `--etcd-cafile=${pki.etcdCACert}`,
        `--etcd-certfile=${pki.apiserverEtcdClientCert}`,
        `--etcd-keyfile=${pki.apiserverEtcdClientKey}`,
      ],
    });
  });
  after(async () => {
    await api?.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("the API server stores and reads through etcd over https", async () => {
    assert.match(etcd.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    await api.client.create(CONFIGMAPS, "default", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "over-tls", namespace: "default" },
      data: { a: "b" },
    });
    const cm = await api.client.get<ConfigMap>(CONFIGMAPS, "default", "over-tls");
    assert.deepEqual(cm.data, { a: "b" });
    const ready = await api.client.request("GET", "/readyz");
    assert.equal(ready.statusCode, 200);
    assert.equal(await text(ready.body), "ok");
  });

  test("etcd refuses plain HTTP, a client without a certificate, and the cluster CA's certificates", async () => {
    const caPem = readFileSync(pki.etcdCACert, "utf8");
    const health = async (connect: ConstructorParameters<typeof Agent>[0]) => {
      const agent = new Agent(connect);
      try {
        const res = await request(`${etcd.endpoint}/health`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
        return `${res.statusCode} ${await res.body.text()}`;
      } catch (err) {
        return `refused: ${(err as Error).message}`;
      } finally {
        await agent.close();
      }
    };
    // The API server's etcd client certificate gets in.
    assert.match(
      await health({
        connect: {
          ca: caPem,
          cert: readFileSync(pki.apiserverEtcdClientCert, "utf8"),
          key: readFileSync(pki.apiserverEtcdClientKey, "utf8"),
        },
      }),
      /^200 .*"health":"true"/,
    );
    assert.match(await health({ connect: { ca: caPem } }), /^refused:/);
    // The admin's certificate (cluster CA, system:masters) does not open etcd.
    const admin = loadKubeconfig({ path: pki.kubeconfigs.admin });
    assert.match(
      await health({ connect: { ca: caPem, cert: admin.certPem as string, key: admin.keyPem as string } }),
      /^refused:/,
    );
    const plain = await request(etcd.endpoint.replace("https:", "http:") + "/health", {
      signal: AbortSignal.timeout(5000),
    }).then(
      async (r) => `${r.statusCode} ${await r.body.text()}`,
      (err: Error) => `refused: ${err.message}`,
    );
    assert.doesNotMatch(plain, /"health":"true"/);
  });
});
