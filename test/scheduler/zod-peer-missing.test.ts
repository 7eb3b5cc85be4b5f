import { memoryStore } from '@cronkeeper/adapter-memory';
import { createScheduler } from '@cronkeeper/core';
import { describe, expect, it, vi } from 'vitest';

// An app that forced the install past the peer range (npm --legacy-peer-deps, or a package manager
// that only warns about peers) runs Cronkeeper on its zod 3. Every `import 'zod'` in this file's
// module graph, Cronkeeper's own included, gets the real zod 3 here.
vi.mock('zod', async () => import('zod3'));

describe('Cronkeeper loaded beside zod 3', () => {
  it('says so at createScheduler, with the range and the fix, before any schema misbehaves', () => {
    expect(() => createScheduler({ store: memoryStore(), logger: false })).toThrow(
      /needs zod \^4\.1\.0 \(a peer dependency\).*npm install zod@\^4/,
    );
  });
});
