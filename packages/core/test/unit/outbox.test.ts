import { describe, expect, it } from 'vitest';
import { Outbox } from '../../src/outbox.js';
import type { StoreEvent } from '../../src/store.js';

const run = (runId: string, status: 'pending' | 'running' | 'succeeded'): StoreEvent => ({
  type: 'run',
  origin: 'a',
  runId,
  status,
  tenantId: null,
});

function recordingOutbox() {
  const sent: StoreEvent[][] = [];
  const outbox = new Outbox(
    async (events) => {
      sent.push(events);
    },
    (error) => {
      throw error;
    },
  );
  return { outbox, sent };
}

describe('outgoing store events', () => {
  it('sends one event per run (its latest status) and drops a wake that the batch already carries', async () => {
    const { outbox, sent } = recordingOutbox();
    outbox.push(run('r1', 'pending'));
    outbox.push({ type: 'wake', origin: 'a' });
    outbox.push(run('r1', 'succeeded'));
    outbox.push({ type: 'cancel', origin: 'a', runId: 'r2' });
    await outbox.drain();
    expect(sent.flat()).toEqual([run('r1', 'succeeded'), { type: 'cancel', origin: 'a', runId: 'r2' }]);
  });

  it('keeps a wake when nothing else in the batch wakes receivers', async () => {
    const { outbox, sent } = recordingOutbox();
    outbox.push({ type: 'cancel', origin: 'a', runId: 'r2' });
    outbox.push({ type: 'wake', origin: 'a' });
    outbox.push({ type: 'wake', origin: 'a' });
    await outbox.drain();
    expect(sent.flat()).toEqual([
      { type: 'cancel', origin: 'a', runId: 'r2' },
      { type: 'wake', origin: 'a' },
    ]);
  });

  it('holds a running status briefly, sends only the final one for a short run, and the running one alone otherwise', async () => {
    const { outbox, sent } = recordingOutbox();
    outbox.push(run('short', 'running'));
    outbox.push(run('long', 'running'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    outbox.push(run('short', 'succeeded'));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(sent.flat()).toEqual([run('short', 'succeeded'), run('long', 'running')]);
  });

  it('drain sends held events at once, so stop() loses nothing', async () => {
    const { outbox, sent } = recordingOutbox();
    outbox.push(run('r1', 'running'));
    await outbox.drain();
    expect(sent.flat()).toEqual([run('r1', 'running')]);
  });
});
