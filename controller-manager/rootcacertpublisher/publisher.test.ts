import assert from "node:assert/strict";
import { test } from "node:test";
import { CONFIGMAPS, NAMESPACES } from "#pkg/api/resources.js";
import type { ConfigMap, Namespace } from "#pkg/api/types/index.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/controller-context.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../../test/harness/wait.js";
import { ROOT_CA_CONFIGMAP, RootCACertPublisher } from "./publisher.js";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function namespace(name: string, phase = "Active"): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name }, status: { phase } };
}

/** The publisher on real informers over a FakeClient (pkg/testing's context), running until the test's end. */
async function start(client: FakeClient) {
  const ctx = fakeControllerContext({ client });
  const c = new RootCACertPublisher(ctx, { rootCA: CA });
  const signal = await ctx.start();
  const running = c.run(signal, 2);
  return async () => {
    abortFakeContexts();
    await running;
    await ctx.informers.stopped();
  };
}

const published = (client: FakeClient, ns: string) => client.object<ConfigMap>(CONFIGMAPS, ns, ROOT_CA_CONFIGMAP);

test("every active namespace gets kube-root-ca.crt with the CA; terminating ones do not", async (t) => {
  const client = new FakeClient();
  client.seed(NAMESPACES, namespace("default"), namespace("going", "Terminating"));
  t.after(await start(client));
  await waitFor(() => published(client, "default") !== undefined);
  assert.deepEqual(published(client, "default")?.data, { "ca.crt": CA });
  assert.match(published(client, "default")?.metadata.annotations?.["kubernetes.io/description"] ?? "", /CA bundle/);
  await client.create(NAMESPACES, undefined, namespace("new"));
  await waitFor(() => published(client, "new") !== undefined);
  assert.equal(published(client, "going"), undefined);
});

test("a changed ConfigMap is restored, a deleted one made again", async (t) => {
  const client = new FakeClient();
  client.seed(NAMESPACES, namespace("default"));
  t.after(await start(client));
  await waitFor(() => published(client, "default") !== undefined);
  const cm = published(client, "default") as ConfigMap;
  await client.update(CONFIGMAPS, "default", { ...cm, data: { "ca.crt": "tampered", extra: "x" } });
  await waitFor(() => published(client, "default")?.data?.["ca.crt"] === CA);
  assert.deepEqual(published(client, "default")?.data, { "ca.crt": CA });
  await client.delete(CONFIGMAPS, "default", ROOT_CA_CONFIGMAP);
  await waitFor(() => published(client, "default") !== undefined);
  assert.deepEqual(published(client, "default")?.data, { "ca.crt": CA });
});
