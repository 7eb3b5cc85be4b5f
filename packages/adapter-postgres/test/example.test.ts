import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PG_URL, pgAvailable, uniqueSchema } from './postgres.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../../examples/postgres/src/main.ts', import.meta.url));

/** Run the example as a user would (TypeScript through tsx, the source condition) and collect its output. */
function runExample(schema: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@cronkeeper/source', MAIN], {
      cwd: ROOT,
      env: { ...process.env, CRONKEEPER_PG_URL: PG_URL, CRONKEEPER_EXAMPLE_SCHEMA: schema },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill(), 40_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.skipIf(!pgAvailable)('examples/postgres', () => {
  it('ends by itself, with the trigger on instance a run by instance b', async () => {
    const { code, output } = await runExample(uniqueSchema('example'));
    expect(output).toMatch(/\[b\] send-report started here/);
    expect(output).toMatch(/The trigger on a was run by b, \d+ ms after it was created/);
    expect(code, output).toBe(0);
  }, 45_000);
});
