// Checks every published package the way a consumer sees it: the metadata and files the registry
// page and `npm install` rely on, publint for the package.json and files, and "are the types wrong"
// for ESM/CJS type resolution. Run after the build (`pnpm build`); needs Node only (npm is used by
// attw to pack), not pnpm. New packages under packages/ are picked up automatically.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fatal as fail, publishedPackages, root } from './workspace-packages.mjs';

const REPOSITORY = 'https://github.com/cronkeeper/cronkeeper';
const fatal = (message) => fail('check-packages', message);

/** The CLI entry of a devDependency, run with this Node so no package manager is needed on PATH. */
function binOf(pkgName, binName) {
  const manifestPath = join(root, 'node_modules', pkgName, 'package.json');
  if (!existsSync(manifestPath))
    fatal(`${pkgName} is not installed: install the workspace first (npx -y pnpm@10 install).`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[binName];
  if (!bin) fatal(`${pkgName} has no "${binName}" command.`);
  return join(manifestPath, '..', bin);
}

/** Every TypeScript file under `dir`. */
function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|mts|cts)$/.test(entry.name))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** What a package's metadata, files and README get wrong, as sentences. */
function metadataProblems({ dir, folder, pkg }, core) {
  const problems = [];
  const expect = (condition, message) => {
    if (!condition) problems.push(message);
  };
  const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
  const license = join(dir, 'LICENSE');
  expect(pkg.license === 'MIT', '"license" must be "MIT"');
  expect(existsSync(license), 'LICENSE is missing (copy the root LICENSE)');
  expect(
    !existsSync(license) || readFileSync(license, 'utf8') === rootLicense,
    'LICENSE differs from the root LICENSE',
  );
  expect(
    pkg.files?.includes('LICENSE') && pkg.files?.includes('README.md'),
    '"files" must list README.md and LICENSE',
  );
  expect(pkg.author === 'Cronkeeper contributors', '"author" must be "Cronkeeper contributors"');
  expect(Array.isArray(pkg.keywords) && pkg.keywords.length > 0, '"keywords" is missing');
  expect(typeof pkg.description === 'string' && pkg.description.length > 0, '"description" is missing');
  expect(
    pkg.repository?.url === `git+${REPOSITORY}.git` && pkg.repository?.directory === `packages/${folder}`,
    `"repository" must be { type: "git", url: "git+${REPOSITORY}.git", directory: "packages/${folder}" }`,
  );
  expect(
    pkg.homepage === `${REPOSITORY}/tree/main/packages/${folder}#readme`,
    '"homepage" must point at its README',
  );
  expect(pkg.bugs?.url === `${REPOSITORY}/issues`, `"bugs" must be { url: "${REPOSITORY}/issues" }`);
  expect(pkg.engines?.node, '"engines.node" is missing');

  // zod is one instance shared with the app: a peer of every package that uses it, in one range.
  const usesZod = sourceFiles(join(dir, 'src')).some((file) =>
    /from ['"]zod(\/[\w-]+)?['"]/.test(readFileSync(file, 'utf8')),
  );
  if (usesZod) {
    expect(!pkg.dependencies?.zod, 'zod must be a peer dependency, not a dependency');
    expect(
      pkg.peerDependencies?.zod === core.peerDependencies?.zod,
      `peerDependencies.zod must be "${core.peerDependencies?.zod}", as in @cronkeeper/core`,
    );
  }
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    expect(
      !String(range).startsWith('workspace:') || name.startsWith('@cronkeeper/'),
      `${name}: workspace range`,
    );
  }

  const readmePath = join(dir, 'README.md');
  if (!existsSync(readmePath)) return [...problems, 'README.md is missing'];
  const readme = readFileSync(readmePath, 'utf8');
  // The README is read on the registry's page, where relative links lead nowhere.
  for (const [, target] of readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)) {
    expect(/^(https?:|mailto:|#)/.test(target), `README links to "${target}": use an absolute URL`);
  }
  for (const [peer, range] of Object.entries(pkg.peerDependencies ?? {})) {
    if (pkg.peerDependenciesMeta?.[peer]?.optional) continue;
    expect(readme.includes(range), `README must state the supported ${peer} range (${range})`);
  }
  expect(
    !/\bseeds?\s+0\d\d\b|\bseed-0\d\d\b/i.test(readme),
    'README cites a seed document; describe the feature instead',
  );
  return problems;
}

const packages = publishedPackages();
if (packages.length === 0) fatal('no packages found under packages/');
const core = packages.find(({ pkg }) => pkg.name === '@cronkeeper/core')?.pkg;
if (!core) fatal('@cronkeeper/core was not found under packages/');
const publint = binOf('publint', 'publint');
const attw = binOf('@arethetypeswrong/cli', 'attw');

let failed = false;
for (const entry of packages) {
  const { dir, pkg } = entry;
  const where = relative(root, dir);
  if (!existsSync(join(dir, 'dist'))) {
    console.log(`FAIL build ${pkg.name}: ${where}/dist is missing; build first (pnpm build)`);
    failed = true;
    continue;
  }
  const problems = metadataProblems(entry, core);
  if (problems.length === 0) console.log(`ok   metadata ${pkg.name}`);
  else {
    failed = true;
    console.log(
      `FAIL metadata ${pkg.name} (${where}/package.json, LICENSE, README.md)\n  ${problems.join('\n  ')}`,
    );
  }
  for (const [tool, args] of [
    ['publint', [publint, '--strict', dir]],
    // Every resolution mode, the legacy node10 of older CommonJS projects included.
    ['attw', [attw, '--pack', dir, '--format', 'table-flipped']],
  ]) {
    try {
      execFileSync(process.execPath, args, { cwd: root, stdio: 'pipe' });
      console.log(`ok   ${tool} ${pkg.name}`);
    } catch (error) {
      failed = true;
      const output = `${error.stdout?.toString() ?? ''}${error.stderr?.toString() ?? ''}`.trim();
      console.log(`FAIL ${tool} ${pkg.name}\n${output || error.message}`);
    }
  }
}
process.exit(failed ? 1 : 0);
