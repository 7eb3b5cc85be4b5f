// The release path (docs/releasing.md). `npm pack` and `npm publish` would ship the workspace's
// `workspace:^` ranges as they are, which no registry can resolve; `pnpm pack` rewrites them to
// the versions they point at. So a release packs every package with pnpm, checks the tarballs,
// and publishes exactly those files with `npm publish <tarball>`: what was tested is what ships.
//
//   node scripts/release.mjs version 0.2.0        set every package's version (they move together)
//   node scripts/release.mjs pack                 build, check and pack into release/
//   node scripts/release.mjs publish [--dry-run] [--tag next] [--otp 123456]
//                                                 pack, then npm publish each tarball, core first
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatal as fail, publishedPackages, root } from './workspace-packages.mjs';

const fatal = (message) => fail('release', message);
const RELEASE_DIR = join(root, 'release');
const PNPM = existsSync(join(root, 'node_modules', '.bin', 'pnpm'))
  ? join(root, 'node_modules', '.bin', 'pnpm')
  : 'pnpm';

function sh(command, args, options = {}) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  try {
    return execFileSync(command, args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      ...options,
    });
  } catch (error) {
    fatal(`\`${[command, ...args].join(' ')}\` failed (exit ${error.status ?? error.code})`);
  }
}

/** Packages in publish order: each after the workspace packages it depends on. */
function inPublishOrder(packages) {
  const names = new Set(packages.map(({ pkg }) => pkg.name));
  const done = new Set();
  const ordered = [];
  while (ordered.length < packages.length) {
    const ready = packages.filter(
      ({ pkg }) =>
        !done.has(pkg.name) &&
        Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }).every(
          (dep) => !names.has(dep) || done.has(dep),
        ),
    );
    if (ready.length === 0) fatal('the workspace packages depend on each other in a cycle');
    for (const entry of ready) {
      done.add(entry.pkg.name);
      ordered.push(entry);
    }
  }
  return ordered;
}

function setVersion(version) {
  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version ?? '')) fatal('usage: release.mjs version <x.y.z>');
  for (const { dir, pkg } of publishedPackages()) {
    const file = join(dir, 'package.json');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(`"version": "${pkg.version}"`, `"version": "${version}"`),
    );
    console.log(`${pkg.name} ${pkg.version} → ${version}`);
  }
  const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
  if (!changelog.includes(`## ${version}`))
    console.log(`Now write the "## ${version}" entry of CHANGELOG.md (the "Unreleased" notes, dated).`);
}

function packAll() {
  const packages = inPublishOrder(publishedPackages());
  const versions = new Set(packages.map(({ pkg }) => pkg.version));
  if (versions.size !== 1) fatal(`the packages must share one version; found ${[...versions].join(', ')}`);
  const [version] = versions;
  if (!readFileSync(join(root, 'CHANGELOG.md'), 'utf8').includes(`## ${version}`))
    fatal(`CHANGELOG.md has no "## ${version}" entry`);
  sh(PNPM, ['build']);
  sh(PNPM, ['check:packages'], { stdio: ['ignore', 'inherit', 'inherit'] });
  rmSync(RELEASE_DIR, { recursive: true, force: true });
  mkdirSync(RELEASE_DIR);
  const tarballs = [];
  for (const { dir, pkg } of packages) {
    const packed = JSON.parse(sh(PNPM, ['pack', '--json', '--pack-destination', RELEASE_DIR], { cwd: dir }));
    const manifest = sh('tar', ['-xOzf', packed.filename, 'package/package.json']);
    if (manifest.includes('workspace:')) fatal(`${packed.filename} still has a workspace: range`);
    tarballs.push({ name: pkg.name, file: packed.filename });
  }
  console.log(`\nPacked ${version} into release/:\n${tarballs.map((t) => `  ${t.file}`).join('\n')}`);
  return tarballs;
}

function publishAll(flags) {
  const tarballs = packAll();
  const passThrough = [];
  for (const flag of ['--tag', '--otp']) {
    const index = flags.indexOf(flag);
    if (index !== -1) passThrough.push(flag, flags[index + 1]);
  }
  if (flags.includes('--dry-run')) passThrough.push('--dry-run');
  for (const { file } of tarballs)
    sh('npm', ['publish', file, '--access', 'public', ...passThrough], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'version') setVersion(rest[0]);
else if (command === 'pack') packAll();
else if (command === 'publish') publishAll(rest);
else fatal('usage: release.mjs version <x.y.z> | pack | publish [--dry-run] [--tag <tag>] [--otp <code>]');
