import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/testing.md shows the manual clock used from node:test; this runs that example with node's
// own test runner, in an app where vitest cannot be found, against the sources and the build.
const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const withoutVitest = fileURLToPath(new URL('./without-vitest.mjs', import.meta.url));
const built = ['core/dist/testing.js', 'core/dist/index.js', 'adapter-memory/dist/index.js'].every((file) =>
  existsSync(fileURLToPath(new URL(`../../../packages/${file}`, import.meta.url))),
);

function node(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', withoutVitest, '--import', 'tsx', ...args],
      { cwd: exampleDir, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe('the node:test example of docs/testing.md', () => {
  it('cannot reach vitest: a module importing it fails to load', async () => {
    const { code, output } = await node(['--input-type=module', '--eval', "await import('vitest')"]);
    expect(code).not.toBe(0);
    expect(output).toContain('vitest is not installed in this app');
  });

  it('passes under node --test against the sources', async () => {
    const { code, output } = await node([
      '--conditions=@cronkeeper/source',
      '--test',
      'node-test/reminders.test.ts',
    ]);
    expect(output).toMatch(/^# pass 2$/m);
    expect(output).toMatch(/^# fail 0$/m);
    expect(code).toBe(0);
  });

  // CI builds before testing; locally this needs `pnpm build` first.
  it.runIf(built || process.env.CI)('passes under node --test against the built packages', async () => {
    const { code, output } = await node(['--test', 'node-test/reminders.test.ts']);
    expect(output).toMatch(/^# pass 2$/m);
    expect(output).toMatch(/^# fail 0$/m);
    expect(code).toBe(0);
  });
});
