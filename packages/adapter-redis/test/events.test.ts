import { randomUUID } from 'node:crypto';
import { redisStore } from '@cronkeeper/adapter-redis';
import type { Store, StoreEvent } from '@cronkeeper/core';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { z } from 'zod';
import type { storeEventSchema } from '../src/event-schema.js';
import { RESUBSCRIBED_ORIGIN } from '../src/events.js';
import { connect, deleteKeysUnder, redisAvailable, uniquePrefix } from './redis.js';

const EVERY_SHAPE: StoreEvent[] = [
  { type: 'wake', origin: 'a' },
  { type: 'run', origin: 'a', runId: 'r1', status: 'failed', tenantId: null },
  { type: 'cancel', origin: 'a', runId: 'r1' },
  { type: 'job', origin: 'a', jobId: 'j1', name: 'nightly', tenantId: 'acme', change: 'resumed' },
];

type Subscribing = Store & Required<Pick<Store, 'publish' | 'subscribe'>>;

/** The ids of this connection name's connections in subscriber mode. */
async function subscriberIds(admin: Redis, name: string): Promise<string[]> {
  const list = (await admin.call('client', 'list')) as string;
  return list
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2))))
    .filter((client) => client.name === name && Number(client.sub) > 0)
    .map((client) => client.id as string);
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!redisAvailable)('redis store events over pub/sub', () => {
  const prefix = uniquePrefix('events');
  const name = `ck-test-events-${randomUUID().slice(0, 8)}`;
  let admin: Redis;
  let clients: Redis[];
  let onError: ReturnType<typeof vi.fn<(error: Error) => void>>;
  let listening: Subscribing;
  let publishing: Subscribing;

  beforeEach(() => {
    admin = connect();
    clients = [connect({ connectionName: name }), connect()];
    onError = vi.fn<(error: Error) => void>();
    listening = redisStore({ redis: clients[0] as Redis, prefix, onError }) as Subscribing;
    publishing = redisStore({ redis: clients[1] as Redis, prefix }) as Subscribing;
  });

  afterEach(async () => {
    await listening.close();
    await publishing.close();
    await Promise.all(clients.map((client) => client.quit()));
    await deleteKeysUnder(admin, prefix);
    await admin.quit();
  });

  it('accepts every event shape core publishes, cancel included', async () => {
    expectTypeOf<StoreEvent>().toExtend<z.output<typeof storeEventSchema>>();
    const received: StoreEvent[] = [];
    const stop = await listening.subscribe((event) => received.push(event));
    for (const event of EVERY_SHAPE) await publishing.publish([event]);
    await until(() => received.length === EVERY_SHAPE.length, 'every event');
    expect(received).toEqual(EVERY_SHAPE);
    expect(onError).not.toHaveBeenCalled();
    await stop();
  });

  it('sends the events of one publish as one message, delivered in order', async () => {
    const raw = connect();
    const messages: string[] = [];
    raw.on('message', (_channel: string, message: string) => messages.push(message));
    await raw.subscribe(`${prefix}:events`);
    const received: StoreEvent[] = [];
    const stop = await listening.subscribe((event) => received.push(event));
    await publishing.publish(EVERY_SHAPE);
    await publishing.publish([{ type: 'wake', origin: 'alone' }]);
    await until(() => received.length === EVERY_SHAPE.length + 1, 'every event');
    expect(received).toEqual([...EVERY_SHAPE, { type: 'wake', origin: 'alone' }]);
    await until(() => messages.length === 2, 'both messages');
    expect(messages.map((message) => JSON.parse(message))).toEqual([
      EVERY_SHAPE,
      { type: 'wake', origin: 'alone' },
    ]);
    await stop();
    await raw.quit();
  });

  it('drops a whole message with one malformed event in it, and says why', async () => {
    const received: StoreEvent[] = [];
    const stop = await listening.subscribe((event) => received.push(event));
    await admin.publish(
      `${prefix}:events`,
      JSON.stringify([{ type: 'wake', origin: 'a' }, { type: 'wake' }]),
    );
    await publishing.publish([{ type: 'wake', origin: 'after' }]);
    await until(() => received.length === 1, 'the valid event');
    expect(received).toEqual([{ type: 'wake', origin: 'after' }]);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0].message).toContain('not a store event');
    await stop();
  });

  it('reports a message that is not a store event and delivers nothing for it', async () => {
    const received: StoreEvent[] = [];
    const stop = await listening.subscribe((event) => received.push(event));
    await admin.publish(`${prefix}:events`, '{"type":"wake"}');
    await admin.publish(`${prefix}:events`, 'not json');
    await publishing.publish([{ type: 'wake', origin: 'after' }]);
    await until(() => received.length === 1, 'the valid event');
    expect(received).toEqual([{ type: 'wake', origin: 'after' }]);
    expect(onError).toHaveBeenCalledTimes(2);
    expect(onError.mock.calls.map(([error]) => error.message)).toEqual([
      expect.stringContaining('not a store event'),
      expect.stringContaining('invalid JSON'),
    ]);
    await stop();
  });

  it('re-subscribes after its connection is killed, wakes its listeners, and receives events again', async () => {
    const received: StoreEvent[] = [];
    const stop = await listening.subscribe((event) => received.push(event));
    const [killed, ...others] = await subscriberIds(admin, name);
    expect(killed).toBeDefined();
    expect(others).toEqual([]);

    await admin.call('client', 'kill', 'id', killed as string);
    // Events published while the connection is down are lost; the store says so with a wake.
    await until(
      () => received.some((event) => event.type === 'wake' && event.origin === RESUBSCRIBED_ORIGIN),
      'the wake after resubscribing',
    );
    const [reconnected] = await subscriberIds(admin, name);
    expect(reconnected).toBeDefined();
    expect(reconnected).not.toBe(killed);

    const event: StoreEvent = { type: 'run', origin: 'b', runId: 'r2', status: 'succeeded', tenantId: null };
    await publishing.publish([event]);
    await until(
      () => received.some((seen) => seen.type === 'run'),
      'the event published after the reconnect',
    );
    expect(received.filter((seen) => seen.type === 'run')).toEqual([event]);
    await stop();
    expect(await subscriberIds(admin, name)).toEqual([]);
  });
});
