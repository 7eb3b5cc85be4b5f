import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { monotonicNow } from './ledger.js';

const run = promisify(execFile);

// The executor ledger compares readings taken in different processes (see ledger.ts): a reading
// taken in a child process must fall between two readings of its parent taken before it was
// started and after it exited, on the same scale. A per-process clock (counted from each process's
// own start) would put the child's reading far below the parent's.
it('the ledger clock is one monotonic clock shared by every process on the machine', async () => {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = monotonicNow();
    const { stdout } = await run(process.execPath, [
      '-e',
      'process.stdout.write(String(process.hrtime.bigint()))',
    ]);
    const after = monotonicNow();
    const child = BigInt(stdout);
    expect(child > before, `child ${child} after parent ${before}`).toBe(true);
    expect(child < after, `child ${child} before parent ${after}`).toBe(true);
  }
});
