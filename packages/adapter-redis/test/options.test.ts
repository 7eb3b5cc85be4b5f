import { redisStore } from '@cronkeeper/adapter-redis';
import { ValidationError } from '@cronkeeper/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

// A client that never connects: option checks must not need a server.
const client = new Redis({ lazyConnect: true });

function failure(options: unknown): ValidationError {
  try {
    redisStore(options as Parameters<typeof redisStore>[0]);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('redisStore options', () => {
  it('accepts an ioredis client, with or without a prefix', () => {
    expect(redisStore({ redis: client }).capabilities).toEqual({
      subscribe: true,
      announcesCreatedRuns: true,
      announcesFinishedRuns: true,
    });
    expect(redisStore({ redis: client, prefix: '{billing}' }).capabilities).toEqual({
      subscribe: true,
      announcesCreatedRuns: true,
      announcesFinishedRuns: true,
    });
  });

  it('names the offending field of a bad option', () => {
    expect(failure({ redis: { get: () => null } }).issues).toEqual([
      { path: 'redis', message: expect.stringContaining('must be an ioredis client') },
    ]);
    expect(failure({ redis: client, prefix: 'has space' }).issues).toEqual([
      { path: 'prefix', message: 'must not contain whitespace' },
    ]);
    expect(failure({ redis: client, prefix: '' }).issues).toEqual([
      { path: 'prefix', message: 'must not be empty' },
    ]);
    expect(failure({ redis: client, onError: 'log' }).issues).toEqual([
      { path: 'onError', message: 'must be a function' },
    ]);
  });

  it('rejects an option it does not know, listing the ones it does', () => {
    expect(failure({ redis: client, keyPrefix: 'x' }).issues).toEqual([
      { path: 'keyPrefix', message: 'is not an option of redisStore (known: redis, prefix, onError)' },
    ]);
  });
});
