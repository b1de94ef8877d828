// The registry suite (registry-suite.ts) against a real etcd.

import { before } from "node:test";
import { startEtcd, type TestEtcd } from "../harness/etcd.js";
import { registrySuite } from "./registry-suite.js";

let etcd: TestEtcd;
before(async () => {
  etcd = await startEtcd();
});

registrySuite({
  storageFor: () => ({ etcdServers: [etcd.endpoint] }),
  close: () => etcd.stop(),
});
