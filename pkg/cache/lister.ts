// Lister: a typed, read-only view over an informer's store (client-go's listers), e.g.
// pods.get("default", "web"). The DeepReadonly type makes "never mutate cached objects" a
// compile error; structuredClone an object before changing it.

import { keyFor } from "../api/keys.js";
import type { Selector } from "../api/labels.js";
import type { KubeObject } from "../api/meta.js";
import { type DeepReadonly, NAMESPACE_INDEX, type Store } from "./store.js";

export class Lister<T extends KubeObject> {
  readonly #store: Store<T>;

  constructor(source: Store<T> | { store: Store<T> }) {
    this.#store = "store" in source ? source.store : source;
  }

  get(namespace: string | undefined, name: string): DeepReadonly<T> | undefined {
    return this.#store.get(keyFor(namespace, name)) as DeepReadonly<T> | undefined;
  }

  /** Objects in one namespace (all namespaces when undefined), optionally filtered by a label selector. */
  list(namespace?: string, selector?: Pick<Selector, "matches">): DeepReadonly<T>[] {
    const items = namespace === undefined ? this.#store.list() : this.#store.byIndex(NAMESPACE_INDEX, namespace);
    const out = selector ? items.filter((o) => selector.matches(o.metadata.labels)) : items;
    return out as DeepReadonly<T>[];
  }

  byIndex(name: string, value: string): DeepReadonly<T>[] {
    return this.#store.byIndex(name, value) as DeepReadonly<T>[];
  }
}
