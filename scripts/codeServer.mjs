// Installs (once, into a cache folder outside the project's node_modules) and starts code-server 4.100.3,
// a real VS Code whose extension host is a Node process. Used by the extension-host suite, the browser
// end-to-end test and `npm run try`.
//
// Needs on the machine: Node 20, `apt-get install -y libkrb5-dev ripgrep chromium` (Debian).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, copyFileSync, rmSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
export const cacheDir =
  process.env.PROMPTSCOPE_CODE_SERVER_DIR ?? path.join(os.homedir(), '.cache', 'promptscope-code-server');
const entry = path.join(cacheDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** Path of code-server's Node entry, installing it first when the cache does not hold it yet. */
export function ensureCodeServer({ quiet = false } = {}) {
  if (existsSync(entry)) return entry;
  const log = (m) => quiet || console.log(`[code-server] ${m}`);
  log(`installing code-server@${CODE_SERVER_VERSION} into ${cacheDir} (one time)…`);
  mkdirSync(cacheDir, { recursive: true });
  seedRipgrepCache(log);
  writeFileSync(
    path.join(cacheDir, 'package.json'),
    JSON.stringify({ name: 'promptscope-code-server-cache', private: true }, null, 2),
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--unsafe-perm', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: cacheDir,
    stdio: quiet ? 'ignore' : 'inherit',
    env: { ...process.env, npm_config_yes: 'true', ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (r.status !== 0 || !existsSync(entry)) {
    throw new Error(
      `Installing code-server failed (exit ${r.status}). It needs Node 20 and the Debian packages ` +
        '`libkrb5-dev ripgrep` (apt-get install -y libkrb5-dev ripgrep chromium).',
    );
  }
  log('installed.');
  return entry;
}

/**
 * @vscode/ripgrep downloads rg from GitHub at install time; give it Debian's /usr/bin/rg as a cached
 * download so that the install works without access to GitHub.
 */
function seedRipgrepCache(log) {
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!rg) throw new Error('ripgrep is missing: apt-get install -y ripgrep');
  const dir = path.join(os.tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  const tarball = path.join(dir, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
  if (existsSync(tarball)) return;
  mkdirSync(dir, { recursive: true });
  const stage = mkdtempSync(path.join(os.tmpdir(), 'rg-stage-'));
  copyFileSync(rg, path.join(stage, 'rg'));
  const r = spawnSync('tar', ['-czf', tarball, '-C', stage, 'rg']);
  rmSync(stage, { recursive: true, force: true });
  if (r.status !== 0) throw new Error('could not pack ripgrep for the @vscode/ripgrep cache');
  log(`seeded ${tarball} from ${rg}`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs code-server's CLI synchronously (e.g. --install-extension). */
export function codeServerCli(args, { quiet = false } = {}) {
  const main = ensureCodeServer({ quiet });
  const r = spawnSync(process.execPath, [main, ...args], { stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`code-server ${args.join(' ')} failed (exit ${r.status}): ${r.stderr ?? ''}`);
  return r.stdout;
}

/**
 * Starts code-server bound to 127.0.0.1 without auth and resolves once it answers HTTP.
 * Returns { url, port, process, stop(), logs() }.
 */
export async function startCodeServer({
  port,
  userDataDir,
  extensionsDir,
  folder,
  quiet = true,
  env = {},
  extraArgs = [],
  // Workspace trust stays off unless a test needs Restricted Mode (an untrusted folder).
  workspaceTrust = false,
} = {}) {
  const main = ensureCodeServer({ quiet });
  port ??= await freePort();
  userDataDir ??= mkdtempSync(path.join(os.tmpdir(), 'promptscope-cs-user-'));
  extensionsDir ??= path.join(userDataDir, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  const args = [
    main,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    ...extraArgs,
  ];
  if (folder) args.push(folder);
  let log = '';
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const onData = (d) => {
    log += d;
    if (!quiet) process.stdout.write(d);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(url + 'healthz');
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`code-server did not answer on ${url} within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    userDataDir,
    extensionsDir,
    process: child,
    logs: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

// `node scripts/codeServer.mjs install` — install into the cache (idempotent), print the entry path.
if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'install') {
  console.log(ensureCodeServer());
}
