import { readFileSync } from 'node:fs';
import { memoryStore } from '@cronkeeper/adapter-memory';
import {
  createScheduler,
  defineExecutor,
  type Executor,
  type Scheduler,
  ValidationError,
} from '@cronkeeper/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { z as z3 } from 'zod3';
import { z as z3v4 } from 'zod3/v4';

// zod is a peer dependency: the user's zod and ours must be one. A params schema built with an
// unsupported zod (here a real zod 3 install) must be refused where it is given, by name, rather
// than registered with `paramsSchema: null` and parameters typed `unknown`.

const corePackage = JSON.parse(
  readFileSync(new URL('../../packages/core/package.json', import.meta.url), 'utf8'),
);
const supportedRange: string = corePackage.peerDependencies.zod;

function rejection(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const zod3Params = z3.object({ timeout_minutes: z3.number().int() });
const run = async () => ({ ok: true });

describe('executor params schemas and the zod peer dependency', () => {
  it('refuses a zod 3 schema in createScheduler, naming the executor and the supported range', () => {
    const error = rejection(() =>
      createScheduler({
        store: memoryStore(),
        logger: false,
        // What an app on zod 3 writes; its types do not fit either (TS2740), hence the cast.
        executors: { markUsersOffline: { params: zod3Params as never, run } },
      }),
    );
    expect(error.path).toBe('executors.markUsersOffline.params');
    expect(error.message).toContain('zod 3');
    expect(error.message).toContain('executor "markUsersOffline"');
    expect(error.message).toContain(`zod ${supportedRange}`);
  });

  it('refuses it in scheduler.register, for a definition and for a hand-built executor alike', () => {
    const scheduler = createScheduler({ store: memoryStore(), logger: false });
    const fromDefinition = rejection(() => scheduler.register('sync', { params: zod3Params as never, run }));
    expect(fromDefinition.message).toMatch(/executor "sync".*zod \^4/);
    const handBuilt = {
      description: null,
      params: zod3Params,
      defaults: {},
      timeoutMs: null,
      estimatedDurationMs: null,
      retry: null,
      run,
    } as unknown as Executor;
    expect(rejection(() => scheduler.register('sync', handBuilt)).path).toBe('executors.sync.params');
    expect(scheduler.executors().map((info) => info.name)).not.toContain('sync');
  });

  it('refuses it in defineExecutor, naming the executor by its description', () => {
    const error = rejection(() =>
      defineExecutor({ description: 'Marks idle users offline', params: zod3Params as never, run }),
    );
    expect(error.path).toBe('params');
    expect(error.message).toContain('zod 3');
    expect(error.message).toContain('"Marks idle users offline"');
    expect(error.message).toContain(supportedRange);
  });

  it('says what else it was given instead of a zod schema', () => {
    const standardSchema = {
      '~standard': { vendor: 'valibot', version: 1, validate: () => ({ value: {} }) },
    };
    expect(rejection(() => defineExecutor({ params: standardSchema as never, run })).message).toContain(
      'is a valibot schema',
    );
    expect(rejection(() => defineExecutor({ params: 'object' as never, run })).message).toContain(
      'is a string, not a zod schema',
    );
  });

  it('accepts zod 4 schemas, classic, mini and zod 3.25\'s "zod/v4", and lists their JSON Schema', async () => {
    const scheduler = createScheduler({
      store: memoryStore(),
      logger: false,
      executors: {
        classic: defineExecutor({ params: z.object({ batchSize: z.number().int() }), run }),
        // Typed for classic zod 4 schemas; at run time any zod 4 schema works.
        mini: defineExecutor({ params: zm.object({ batchSize: zm.number() }) as never, run }),
        subpath: defineExecutor({ params: z3v4.object({ batchSize: z3v4.number() }) as never, run }),
      },
    });
    const listed = scheduler.executors().filter((info) => !info.builtIn);
    expect(listed.map((info) => info.name).sort()).toEqual(['classic', 'mini', 'subpath']);
    for (const info of listed) {
      expect(info.paramsSchema).toMatchObject({ type: 'object', properties: { batchSize: {} } });
    }
    // Untyped on purpose: the mini and subpath schemas were cast to fit, and 'three' must reach run time.
    const loose: Scheduler = scheduler;
    for (const name of ['classic', 'mini', 'subpath'])
      await loose.trigger({ executor: name, params: { batchSize: 3 } });
    const { summary } = await loose.runDue();
    expect(summary).toMatchObject({ executed: 3, failed: 0 });
    await expect(loose.trigger({ executor: 'mini', params: { batchSize: 'three' } })).rejects.toThrow(
      /batchSize/,
    );
  });
});
