import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources through the `@cronkeeper/source` export condition, so no
// build is needed before `pnpm test`; child processes started by tests use the same condition.

// The Redis adapter's peer range covers ioredis 5 and 6. The workspace develops on 5;
// CRONKEEPER_IOREDIS=6 makes every `import 'ioredis'` in this run load ioredis 6 instead (the
// `ioredis6` alias installed beside the adapter), and CI runs the Redis suite once on each.
const IOREDIS_MAJORS = ['5', '6'];
const ioredisMajor = process.env.CRONKEEPER_IOREDIS ?? '5';
if (!IOREDIS_MAJORS.includes(ioredisMajor)) {
  throw new Error(
    `CRONKEEPER_IOREDIS must be one of ${IOREDIS_MAJORS.join(', ')} (the ioredis majors the tests can load), not "${ioredisMajor}"`,
  );
}
const fromRedisAdapter = createRequire(new URL('./packages/adapter-redis/package.json', import.meta.url));
const alias =
  ioredisMajor === '6' ? [{ find: /^ioredis$/, replacement: fromRedisAdapter.resolve('ioredis6') }] : [];

export default defineConfig({
  resolve: { conditions: ['@cronkeeper/source'], alias },
  ssr: { resolve: { conditions: ['@cronkeeper/source'], externalConditions: ['@cronkeeper/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    globalSetup: ['test/services.setup.ts'],
  },
});
