import type { StoreEvent } from '@cronkeeper/core';
import { copy } from './copy.js';

/** In-process publish/subscribe: every scheduler sharing one memory store hears every event. */
export class EventBus {
  readonly #listeners = new Set<{ listener: (event: StoreEvent) => void }>();

  /** Deliver a copy of each event, in order, to every listener; rejects if any listener threw (after all were called). */
  async publish(events: readonly StoreEvent[]): Promise<void> {
    const sent = events.map(copy);
    // Deliver after the publisher's current step, as a real broker would, never inside it.
    await Promise.resolve();
    const failures: unknown[] = [];
    for (const event of sent) {
      for (const entry of [...this.#listeners]) {
        try {
          entry.listener(copy(event));
        } catch (error) {
          failures.push(error);
        }
      }
    }
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} store event listener(s) threw`);
  }

  /** Add a listener; the returned function removes this subscription only. */
  async subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    const entry = { listener };
    this.#listeners.add(entry);
    return async () => {
      this.#listeners.delete(entry);
    };
  }
}
