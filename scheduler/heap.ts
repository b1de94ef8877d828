// A binary heap keyed by string, with update and delete by key (upstream
// pkg/scheduler/backend/heap): the scheduling queue's activeQ and backoffQ.

export class KeyedHeap<T> {
  readonly #items: Array<{ key: string; value: T }> = [];
  readonly #index = new Map<string, number>();
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  has(key: string): boolean {
    return this.#index.has(key);
  }

  get(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#items[i]?.value;
  }

  peek(): T | undefined {
    return this.#items[0]?.value;
  }

  /** addOrUpdate inserts value under key, or replaces it and restores heap order. */
  addOrUpdate(key: string, value: T): void {
    const i = this.#index.get(key);
    if (i !== undefined) {
      const item = this.#items[i];
      if (item) item.value = value;
      this.#fix(i);
      return;
    }
    this.#items.push({ key, value });
    this.#index.set(key, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  delete(key: string): T | undefined {
    const i = this.#index.get(key);
    if (i === undefined) return undefined;
    const item = this.#items[i];
    const last = this.#items.length - 1;
    if (i !== last) this.#swap(i, last);
    this.#items.pop();
    this.#index.delete(key);
    if (i !== last) this.#fix(i);
    return item?.value;
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (!top) return undefined;
    this.delete(top.key);
    return top.value;
  }

  values(): T[] {
    return this.#items.map((i) => i.value);
  }

  #fix(i: number): void {
    if (!this.#down(i)) this.#up(i);
  }

  #swap(i: number, j: number): void {
    const a = this.#items[i];
    const b = this.#items[j];
    if (!a || !b) return;
    this.#items[i] = b;
    this.#items[j] = a;
    this.#index.set(b.key, i);
    this.#index.set(a.key, j);
  }

  #lessAt(i: number, j: number): boolean {
    const a = this.#items[i];
    const b = this.#items[j];
    return !!a && !!b && this.#less(a.value, b.value);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#lessAt(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Returns whether the item moved. */
  #down(i0: number): boolean {
    let i = i0;
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let j = l;
      if (l + 1 < n && this.#lessAt(l + 1, l)) j = l + 1;
      if (!this.#lessAt(j, i)) break;
      this.#swap(i, j);
      i = j;
    }
    return i > i0;
  }
}
