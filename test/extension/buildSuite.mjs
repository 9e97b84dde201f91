// Bundles the extension-host suite (TypeScript) into one CommonJS file that VS Code loads as
// extensionTestsPath. `vscode` comes from the host; mocha is loaded from the project's node_modules.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const suiteEntry = path.join(root, 'out', 'test', 'extension', 'suite', 'index.js');
export const benchEntry = path.join(root, 'out', 'test', 'extension', 'benchHost.js');

export async function buildSuite(entry = 'suite') {
  const [from, outfile] =
    entry === 'bench'
      ? [path.join(root, 'test', 'extension', 'benchHost.ts'), benchEntry]
      : [path.join(root, 'test', 'extension', 'suite', 'index.ts'), suiteEntry];
  await esbuild.build({
    entryPoints: [from],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await buildSuite());
