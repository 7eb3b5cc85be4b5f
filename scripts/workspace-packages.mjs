// The workspace's published packages (every folder under packages/ whose package.json is not
// private), shared by the scripts that check, pack and install them, so a new package is picked up
// by all of them without being listed anywhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** Published packages, by folder: `{ dir, folder, pkg }` with `pkg` the parsed package.json. */
export function publishedPackages() {
  const packagesDir = join(root, 'packages');
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')))
    .map((entry) => {
      const dir = join(packagesDir, entry.name);
      return { dir, folder: entry.name, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
    })
    .filter(({ pkg }) => !pkg.private)
    .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name));
}

/** Stop a script with one clear line on stderr, not a stack trace. */
export function fatal(script, message) {
  console.error(`${script}: ${message}`);
  process.exit(2);
}
