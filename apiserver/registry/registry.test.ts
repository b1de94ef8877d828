// The registry suite (test/integration/registry-suite.ts) over the in-memory storage: the store's and
// the registry's behaviour in a few seconds, without etcd.

import { registrySuite } from "../../test/integration/registry-suite.js";
import { MemoryStorage } from "../storage/memory.js";

const storages = new Map<string, MemoryStorage>();
let revision = 0;

registrySuite({
  storageFor(prefix) {
    let s = storages.get(prefix);
    if (!s) {
      // Each registry's storage starts far from the others', as prefixes of one etcd would.
      revision += 1_000_000;
      s = new MemoryStorage({ prefix, revision });
      storages.set(prefix, s);
    }
    return { etcdServers: [], storage: s };
  },
  async close() {
    for (const s of storages.values()) s.close();
  },
});
