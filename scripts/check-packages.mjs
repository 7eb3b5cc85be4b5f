// Checks every published package the way a consumer sees it: publint for the package.json and
// files, and "are the types wrong" for ESM/CJS type resolution. Run after `pnpm build`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
let failed = false;
for (const dir of readdirSync(packagesDir)) {
  const pkgDir = join(packagesDir, dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  for (const [tool, args] of [
    ['publint', ['publint', '--strict', pkgDir]],
    ['attw', ['attw', '--pack', pkgDir, '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync('pnpm', ['exec', ...args], { cwd: root, stdio: 'pipe' });
      console.log(`ok   ${tool} ${pkg.name}`);
    } catch (error) {
      failed = true;
      console.log(
        `FAIL ${tool} ${pkg.name}\n${error.stdout?.toString() ?? ''}${error.stderr?.toString() ?? ''}`,
      );
    }
  }
}
process.exit(failed ? 1 : 0);
