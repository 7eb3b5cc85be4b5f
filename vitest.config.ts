import { defineConfig } from 'vitest/config';

// Tests run on the TypeScript sources through the `@cronkeeper/source` export condition, so no
// build is needed before `pnpm test`; child processes started by tests use the same condition.
export default defineConfig({
  resolve: { conditions: ['@cronkeeper/source'] },
  ssr: { resolve: { conditions: ['@cronkeeper/source'], externalConditions: ['@cronkeeper/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    globalSetup: ['test/services.setup.ts'],
  },
});
