// `npm run try`: build the VSIX, install it into a real VS Code (code-server, installed once into
// ~/.cache/promptscope-code-server) and open the samples/ folder. Prints the URL; Ctrl+C stops it.
// Options: --port N (default: PROMPTSCOPE_PORT or 8080, or a free port when that one is taken).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, codeServerCli, ensureCodeServer, freePort, startCodeServer } from './codeServer.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argPort = process.argv.includes('--port') ? Number(process.argv[process.argv.indexOf('--port') + 1]) : undefined;

ensureCodeServer();
const pack = spawnSync(process.execPath, [path.join(root, 'scripts', 'packageVsix.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (pack.status !== 0) process.exit(pack.status ?? 1);
const vsix = readdirSync(root).filter((f) => f.endsWith('.vsix')).map((f) => path.join(root, f)).sort().at(-1);

const userData = path.join(cacheDir, 'try-user-data');
const extensionsDir = path.join(cacheDir, 'try-extensions');
mkdirSync(path.join(userData, 'User'), { recursive: true });
const settings = path.join(userData, 'User', 'settings.json');
if (!existsSync(settings)) {
  writeFileSync(settings, JSON.stringify({ 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false }, null, 2));
}
console.log(`installing ${path.basename(vsix)} into code-server…`);
codeServerCli(['--install-extension', vsix, '--force', '--extensions-dir', extensionsDir, '--user-data-dir', userData], { quiet: true });

async function portToUse() {
  const wanted = argPort ?? Number(process.env.PROMPTSCOPE_PORT ?? 8080);
  const probe = await fetch(`http://127.0.0.1:${wanted}/`).then(() => true, () => false);
  return probe ? freePort() : wanted;
}

const samples = path.join(root, 'samples');
const server = await startCodeServer({ port: await portToUse(), userDataDir: userData, extensionsDir, folder: samples });
const url = `${server.url}?folder=${encodeURIComponent(samples)}`;
console.log(`\nPromptscope is installed in VS Code (code-server ${'4.100.3'}), bound to 127.0.0.1 only:\n\n    ${url}\n`);
console.log('Open a sample, select a prompt and press Ctrl+Alt+E (or run "Promptscope: Explain Selection"). Ctrl+C stops the server.');
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.process.on('exit', (code) => process.exit(code ?? 0));
