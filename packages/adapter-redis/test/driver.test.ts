import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

// The peer range is ioredis 5 and 6; CI runs this package's suite once per major
// (CRONKEEPER_IOREDIS=6 swaps the driver in vitest.config.ts). This proves the swap happened, so a
// run that claims to cover ioredis 6 cannot quietly test 5 again.
const fromHere = createRequire(import.meta.url);
const installed: Record<string, { Redis: unknown; version: string }> = {
  '5': { Redis: fromHere('ioredis').Redis, version: fromHere('ioredis/package.json').version },
  '6': { Redis: fromHere('ioredis6').Redis, version: fromHere('ioredis6/package.json').version },
};

describe('the ioredis driver under test', () => {
  const major = process.env.CRONKEEPER_IOREDIS ?? '5';

  it(`is ioredis ${major}, the major this run asked for`, () => {
    const expected = installed[major];
    expect(expected?.version).toMatch(new RegExp(`^${major}\\.`));
    expect(Redis).toBe(expected?.Redis);
    for (const [other, driver] of Object.entries(installed)) {
      if (other !== major) expect(Redis).not.toBe(driver.Redis);
    }
  });
});
