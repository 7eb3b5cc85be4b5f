/** Strict ordering of heap items: true when `a` comes before `b`. */
export type Before<T> = (a: T, b: T) => boolean;

/** Counts the items time-indexed lookups look at, so tests can prove cost follows the due work. */
export interface Meter {
  /** Items examined by ordered walks of the heaps (not by admin scans). */
  examined: number;
}

/**
 * A binary min-heap that also removes arbitrary items in O(log n) (it tracks each item's slot), and
 * walks its items in order without popping them, looking at O(k log k) nodes for the first k.
 */
export class IndexedHeap<T> {
  readonly #items: T[] = [];
  readonly #slots = new Map<T, number>();

  constructor(
    private readonly before: Before<T>,
    private readonly meter: Meter,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  has(item: T): boolean {
    return this.#slots.has(item);
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    if (this.#slots.has(item)) throw new Error('IndexedHeap.push: item is already in the heap');
    this.#items.push(item);
    this.#slots.set(item, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Remove `item` if present; true when it was. */
  remove(item: T): boolean {
    const slot = this.#slots.get(item);
    if (slot === undefined) return false;
    this.#slots.delete(item);
    const last = this.#items.pop() as T;
    if (slot < this.#items.length) {
      this.#items[slot] = last;
      this.#slots.set(last, slot);
      this.#down(slot);
      this.#up(slot);
    }
    return true;
  }

  /**
   * Items in ascending order, lazily: a best-first walk over the heap's tree, so stopping after k
   * items has looked at about 2k of them whatever the heap's size. Do not change the heap meanwhile.
   */
  *ascending(): Generator<T, void, undefined> {
    if (this.#items.length === 0) return;
    const items = this.#items;
    const frontier = new IndexedHeap<number>((a, b) => this.before(items[a] as T, items[b] as T), {
      examined: 0,
    });
    frontier.push(0);
    for (let slot = frontier.pop(); slot !== undefined; slot = frontier.pop()) {
      this.meter.examined += 1;
      yield items[slot] as T;
      for (const child of [2 * slot + 1, 2 * slot + 2]) if (child < items.length) frontier.push(child);
    }
  }

  /** Every item, in no particular order. */
  values(): IterableIterator<T> {
    return this.#items.values();
  }

  #up(start: number): void {
    const items = this.#items;
    let slot = start;
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (!this.before(items[slot] as T, items[parent] as T)) return;
      this.#swap(slot, parent);
      slot = parent;
    }
  }

  #down(start: number): void {
    const items = this.#items;
    let slot = start;
    for (;;) {
      const left = 2 * slot + 1;
      const right = left + 1;
      let smallest = slot;
      if (left < items.length && this.before(items[left] as T, items[smallest] as T)) smallest = left;
      if (right < items.length && this.before(items[right] as T, items[smallest] as T)) smallest = right;
      if (smallest === slot) return;
      this.#swap(slot, smallest);
      slot = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const itemA = items[a] as T;
    const itemB = items[b] as T;
    items[a] = itemB;
    items[b] = itemA;
    this.#slots.set(itemB, a);
    this.#slots.set(itemA, b);
  }
}

/** Compare two instants (null last), then two ids: the usual tie-break of the heaps. */
export function earlier(a: Date | null, b: Date | null, idA: string, idB: string): boolean {
  const ta = a === null ? Number.POSITIVE_INFINITY : a.getTime();
  const tb = b === null ? Number.POSITIVE_INFINITY : b.getTime();
  return ta !== tb ? ta < tb : idA < idB;
}
