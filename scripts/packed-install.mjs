// The newcomer's install, in CI: packs every workspace package with `pnpm pack` (which rewrites
// `workspace:` ranges), then, in a fresh app in an empty temp folder and with npm only:
//   1. runs the README's quick start as pasted: its shell block (each `@cronkeeper/*` name swapped
//      for the packed tarball) and its TypeScript block, which must exit 0 on its own;
//   2. installs every tarball with the newest version of each peer its range allows, loads every
//      entry point with import and require, type-checks a strict file using every package's API,
//      runs a node:test file using @cronkeeper/core/testing (no vitest installed), and runs the
//      stores against the real PostgreSQL and Redis when CRONKEEPER_PG_URL / _REDIS_URL are set;
//   3. downgrades every peer to the oldest version its range allows and checks again.
// Packages are found under packages/, so a new one is covered without being listed here.
// Any failing step stops the run with its command and output. Run after `pnpm build`.
import { execFile, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fatal as fail, publishedPackages, root } from './workspace-packages.mjs';

const SCRIPT = 'packed-install';
const fatal = (message) => fail(SCRIPT, message);
const FIXTURES = join(root, 'scripts', 'packed-app');
// The workspace's own pnpm (a devDependency) when installed, else one on PATH.
const PNPM = existsSync(join(root, 'node_modules', '.bin', 'pnpm'))
  ? join(root, 'node_modules', '.bin', 'pnpm')
  : 'pnpm';
const started = Date.now();

class StepFailure extends Error {}

function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}`);
}

function ensure(condition, message) {
  if (!condition) throw new StepFailure(message);
}

/** Run a command; resolve with its stdout, or reject with its command line and output. */
function run(command, args, { cwd, timeout = 120_000, show = false } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, timeout, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.trim();
        if (error) {
          const why = error.killed ? `killed after ${timeout / 1000} s` : `exit ${error.code}`;
          reject(new StepFailure(`\`${[command, ...args].join(' ')}\` in ${cwd} failed (${why})\n${output}`));
          return;
        }
        if (show && output) console.log(output.replace(/^/gm, '        '));
        resolve(stdout);
      },
    );
  });
}

function npm(args, cwd, options = {}) {
  return run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    timeout: 180_000,
    ...options,
  });
}

// ---------- versions ----------

function parseVersion(version) {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return match ? match.slice(1).map(Number) : null;
}

function compareVersions(a, b) {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  for (let index = 0; index < 3; index += 1) if (x[index] !== y[index]) return x[index] - y[index];
  return 0;
}

async function npmView(spec, field) {
  const stdout = await run('npm', ['view', spec, field, '--json'], { cwd: root });
  return stdout.trim() ? JSON.parse(stdout) : null;
}

/** Newest and oldest release in `range`, and whether the registry's `latest` is in it. */
async function peerVersions(name, range) {
  const [matching, latest] = await Promise.all([
    npmView(`${name}@${range}`, 'version'),
    npmView(name, 'dist-tags.latest'),
  ]);
  const releases = [matching ?? []]
    .flat()
    .filter((version) => parseVersion(version) !== null)
    .sort(compareVersions);
  ensure(releases.length > 0, `no release of ${name} satisfies the peer range "${range}"`);
  return {
    name,
    range,
    oldest: releases[0],
    newest: releases.at(-1),
    latest,
    latestInRange: releases.includes(latest),
  };
}

/** Every required peer with its range; a peer shared by several packages must have one range. */
function requiredPeers(packages) {
  const ranges = new Map();
  for (const { pkg } of packages) {
    for (const [name, range] of Object.entries(pkg.peerDependencies ?? {})) {
      if (pkg.peerDependenciesMeta?.[name]?.optional) continue;
      if (ranges.has(name) && ranges.get(name) !== range)
        fatal(
          `peer ${name}: ${pkg.name} wants "${range}", another package "${ranges.get(name)}"; use one range`,
        );
      ranges.set(name, range);
    }
  }
  return ranges;
}

/** Type packages a TypeScript app adds for a peer at `version`. */
function typesFor(name, version) {
  if (name === 'express') return [`@types/express@^${version.split('.')[0]}`];
  if (name === 'pg') return ['@types/pg@^8'];
  return [];
}

// ---------- the README's quick start ----------

/** The shell and TypeScript blocks of the README's "Quick start" section, and the file name. */
function quickStart() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) fatal('README.md has no "## Quick start" section');
  const blocks = [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```/gm)].map(([, lang, code]) => ({
    lang,
    code,
  }));
  const shell = blocks.find((block) => block.lang === 'bash' || block.lang === 'sh');
  const code = blocks.find((block) => block.lang === 'ts');
  if (!shell || !code)
    fatal('the README quick start needs a ```bash block (the install) and a ```ts block (the file)');
  const runLine = /`npx tsx (\S+\.ts)`/.exec(section);
  if (!runLine) fatal('the README quick start must say how to run the file: `npx tsx <file>.ts`');
  return { shell: shell.code, code: code.code, file: runLine[1] };
}

/** The shell block with each `@cronkeeper/*` package name replaced by its tarball. */
function withTarballs(shell, tarballs) {
  return shell.replace(/@cronkeeper\/[\w-]+/g, (name) => {
    if (!tarballs.has(name))
      fatal(`the README quick start installs ${name}, which is not a package of this workspace`);
    return tarballs.get(name);
  });
}

// ---------- steps ----------

function preflight(packages) {
  for (const [tool, hint] of [
    ['npm', 'it comes with Node.js'],
    [PNPM, 'it packs the workspace, rewriting workspace: ranges (npx -y pnpm@10 install installs it)'],
  ]) {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) fatal(`${tool} cannot be run; ${hint}`);
  }
  if (packages.length === 0) fatal('no packages found under packages/');
  for (const { dir, pkg } of packages)
    if (!existsSync(join(dir, 'dist'))) fatal(`${pkg.name} has no dist/: build first (pnpm build)`);
}

async function pack(packages, destination) {
  const tarballs = new Map();
  for (const { dir, pkg } of packages) {
    const packed = JSON.parse(
      await run(PNPM, ['pack', '--json', '--pack-destination', destination], { cwd: dir }),
    );
    const files = packed.files.map((file) => file.path);
    for (const required of ['package.json', 'README.md', 'LICENSE'])
      ensure(files.includes(required), `the tarball of ${pkg.name} lacks ${required}`);
    tarballs.set(pkg.name, packed.filename);
  }
  log(`packed ${[...tarballs.keys()].join(', ')}`);
  return tarballs;
}

/** What an installed package must not carry (workspace ranges, a zod of its own), and npm's view of the tree. */
async function checkInstalled(app, packages) {
  for (const { pkg } of packages) {
    const installed = join(app, 'node_modules', ...pkg.name.split('/'));
    ensure(
      !readFileSync(join(installed, 'package.json'), 'utf8').includes('workspace:'),
      `${pkg.name} was installed with a workspace: range`,
    );
    ensure(existsSync(join(installed, 'LICENSE')), `${pkg.name} was installed without its LICENSE`);
    ensure(
      !existsSync(join(installed, 'node_modules', 'zod')),
      `${pkg.name} got a zod of its own: the app's and Cronkeeper's must be one`,
    );
  }
  await npm(['ls', '--all'], app); // fails on a missing or invalid peer
  await npm(['install'], app); // and a later plain `npm install` keeps working
  log('installed tree: no workspace ranges, one zod, npm ls clean, npm install repeatable');
}

/** Every entry point of every package (its `exports` keys), with the optional peers its package declares. */
function entryPoints(packages) {
  return packages.flatMap(({ pkg }) =>
    Object.keys(pkg.exports ?? { '.': null })
      .filter((key) => key !== './package.json')
      .map((key) => ({
        specifier: key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`,
        // A package's main entry must load without its optional peers; a subpath may need one.
        optionalPeers:
          key === '.'
            ? []
            : Object.keys(pkg.peerDependenciesMeta ?? {}).filter(
                (name) => pkg.peerDependenciesMeta[name]?.optional,
              ),
      })),
  );
}

// Loads each entry with import() and with require(); prints, per entry, the error or null.
const LOADER = `
const results = {};
for (const s of JSON.parse(process.argv[1])) {
  for (const [how, load] of [['import', (x) => import(x)], ['require', async (x) => require(x)]]) {
    try {
      const m = await load(s);
      if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing');
      results[s + ' ' + how] = null;
    } catch (error) {
      results[s + ' ' + how] = { code: error.code ?? null, message: String(error.message).split('\\n')[0] };
    }
  }
}
console.log(JSON.stringify(results));
`;

/**
 * Loads every entry point with import and with require. A subpath entry that needs an optional peer
 * the app did not install (the store contract suite needs vitest) is skipped, said so; any other
 * failure fails the run. Returns the entries that loaded.
 */
async function loadEveryEntry(app, entries) {
  const wrapped = `(async () => { ${LOADER} })().catch((error) => { console.error(error); process.exit(1); });`;
  const results = JSON.parse(
    await run(
      'node',
      ['--input-type=commonjs', '-e', wrapped, JSON.stringify(entries.map((entry) => entry.specifier))],
      {
        cwd: app,
      },
    ),
  );
  const loaded = [];
  for (const { specifier, optionalPeers } of entries) {
    const failures = ['import', 'require'].map((how) => results[`${specifier} ${how}`]).filter(Boolean);
    if (failures.length === 0) {
      loaded.push(specifier);
      continue;
    }
    const missingPeer = optionalPeers.find((peer) =>
      failures.every(
        (failure) => /MODULE_NOT_FOUND/.test(failure.code ?? '') && failure.message.includes(`'${peer}'`),
      ),
    );
    ensure(
      missingPeer,
      `${specifier} does not load: ${failures.map((failure) => failure.message).join('; ')}`,
    );
    log(`${specifier} needs the optional peer ${missingPeer}, not installed in this app: skipped`);
  }
  log(`loaded ${loaded.length} entry points with import and with require`);
  return loaded;
}

/** A TypeScript file importing every entry point that loads, so each one's types are checked. */
function entriesFile(specifiers) {
  const lines = specifiers.map((specifier, index) => `import * as entry${index} from '${specifier}';`);
  const list = specifiers.map((_, index) => `entry${index}`).join(', ');
  return `// Generated: every entry point of every package.\n${lines.join('\n')}\nexport const entries = [${list}];\n`;
}

/**
 * The newest TypeScript checks everything, Cronkeeper's and the peers' declarations included
 * (skipLibCheck off: a declaration naming a type that a peer version lacks fails here instead of
 * becoming `any` for users); with `workspace`, the workspace's TypeScript checks the app's files too.
 */
async function typeCheck(app, { workspace }) {
  const compilers = [
    ['typescript', []],
    ...(workspace ? [['typescript-workspace', ['--skipLibCheck']]] : []),
  ];
  for (const [compiler, flags] of compilers) {
    const { version } = JSON.parse(readFileSync(join(app, 'node_modules', compiler, 'package.json'), 'utf8'));
    await run('node', [join(app, 'node_modules', compiler, 'bin', 'tsc'), '-p', 'tsconfig.json', ...flags], {
      cwd: app,
    });
    log(
      `type-checked with TypeScript ${version}: strict, NodeNext${flags.length ? '' : ', skipLibCheck off'}`,
    );
  }
}

async function runFiles(app, quickStartFile) {
  await run('npx', ['tsx', quickStartFile], { cwd: app, timeout: 30_000 });
  log(`README quick start (${quickStartFile}) exited 0`);
  ensure(
    !existsSync(join(app, 'node_modules', 'vitest')),
    'vitest is installed in the app; the node:test check needs it absent',
  );
  await run('npx', ['tsx', '--test', 'jobs.test.ts'], { cwd: app, timeout: 30_000 });
  log('node:test file using @cronkeeper/core/testing passed, without vitest installed');
  await run('npx', ['tsx', 'smoke.ts'], { cwd: app, timeout: 60_000, show: true });
  log('stores and router smoke passed');
  for (const file of ['describe.mjs', 'describe.cjs'])
    await run('node', [file], { cwd: app, timeout: 30_000 });
  log('schedules described in words under plain node, with import and with require');
}

function installedVersions(app, names) {
  const versionOf = (name) =>
    JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')).version;
  return names.map((name) => `${name} ${versionOf(name)}`).join(', ');
}

async function main() {
  const packages = publishedPackages();
  preflight(packages);
  const workspaceTypescript = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies
    .typescript;
  const temp = mkdtempSync(join(tmpdir(), 'cronkeeper-packed-'));
  const app = join(temp, 'app');
  mkdirSync(app);
  log(`fresh app in ${app}`);
  let passed = false;
  try {
    const peersLookedUp = Promise.all(
      [...requiredPeers(packages)].map(([name, range]) => peerVersions(name, range)),
    );
    peersLookedUp.catch(() => {}); // awaited below; a rejection must not go unhandled meanwhile
    const tarballs = await pack(packages, join(temp, 'tarballs'));

    // 1. The README quick start, as pasted.
    const readme = quickStart();
    await run('bash', ['-euo', 'pipefail', '-c', withTarballs(readme.shell, tarballs)], {
      cwd: app,
      timeout: 180_000,
    });
    writeFileSync(join(app, readme.file), readme.code);
    await run('npx', ['tsx', readme.file], { cwd: app, timeout: 30_000, show: true });
    log(`README quick start: its commands and ${readme.file} ran as pasted and exited 0`);

    const peers = await peersLookedUp;
    for (const peer of peers) {
      log(`peer ${peer.name} ${peer.range}: newest ${peer.newest}, oldest ${peer.oldest}`);
      if (!peer.latestInRange)
        console.log(
          `WARNING ${peer.name} ${peer.latest}, what \`npm install ${peer.name}\` installs today, is outside the peer range ${peer.range}`,
        );
    }

    // 2. Every package, the newest peers.
    const newest = peers.flatMap((peer) => [
      `${peer.name}@${peer.newest}`,
      ...typesFor(peer.name, peer.newest),
    ]);
    const tools = [
      'typescript@latest',
      `typescript-workspace@npm:typescript@${workspaceTypescript}`,
      '@types/node@^20',
    ];
    await npm(['install', '--prefer-offline', ...tarballs.values(), ...newest, ...tools], app);
    log(
      `installed every tarball with ${installedVersions(
        app,
        peers.map((peer) => peer.name),
      )}`,
    );
    for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(app, file));
    await checkInstalled(app, packages);
    const entries = entryPoints(packages);
    writeFileSync(join(app, 'entries.ts'), entriesFile(await loadEveryEntry(app, entries)));
    await Promise.all([typeCheck(app, { workspace: true }), runFiles(app, readme.file)]);

    // 3. The oldest peers the ranges allow.
    const oldest = peers.flatMap((peer) => [
      `${peer.name}@${peer.oldest}`,
      ...typesFor(peer.name, peer.oldest),
    ]);
    await npm(['install', '--prefer-offline', ...oldest], app);
    log(
      `downgraded to ${installedVersions(
        app,
        peers.map((peer) => peer.name),
      )}`,
    );
    await checkInstalled(app, packages);
    writeFileSync(join(app, 'entries.ts'), entriesFile(await loadEveryEntry(app, entries)));
    await Promise.all([typeCheck(app, { workspace: false }), runFiles(app, readme.file)]);
    passed = true;
  } finally {
    if (passed) rmSync(temp, { recursive: true, force: true });
    else console.error(`${SCRIPT}: the app is kept for a look: ${app}`);
  }
  log('packed install: every step passed');
}

main().catch((error) => {
  if (error instanceof StepFailure) console.error(`\nFAIL ${SCRIPT}: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
