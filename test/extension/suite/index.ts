/**
 * Entry of the extension-host suite, called by VS Code as `extensionTestsPath` (desktop via
 * @vscode/test-electron, or code-server's remote extension host). It runs mocha in the extension host and
 * writes the results to a JSON file itself, because in code-server no process exit carries the status.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export interface SuiteReport {
  passed: number;
  failed: number;
  pending: number;
  tests: { title: string; state: 'passed' | 'failed' | 'pending'; durationMs?: number; error?: string }[];
  finishedAt: string;
}

export function resultsPath(): string {
  return (
    process.env.PROMPTSCOPE_TEST_RESULTS ??
    path.resolve(__dirname, '..', '..', '..', '..', 'test-output', 'extension-tests.json')
  );
}

export function run(): Promise<void> {
  const out = resultsPath();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const log = (line: string) => {
    fs.appendFileSync(out.replace(/\.json$/, '.log'), line + '\n');
    console.log(line);
  };
  fs.rmSync(out, { force: true });
  fs.writeFileSync(out.replace(/\.json$/, '.log'), '');

  // PROMPTSCOPE_TEST_GREP runs only the tests whose full title matches (while working on one area).
  const grep = process.env.PROMPTSCOPE_TEST_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'spec', ...(grep && { grep }) });
  mocha.suite.emit('pre-require', globalThis, 'promptscope-extension-suite', mocha);
  // Test files are bundled lazily: requiring them here registers their suites on the globals above.
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('./activation.test');
  require('./explain.test');
  require('./edits.test');
  require('./badInput.test');
  require('./cancel.test');
  require('./clear.test');
  require('./targets.test');
  require('./editorFixes.test');
  require('./hub.test');
  require('./counterfactuals.test');
  require('./restrictedMode.test');
  require('./compare.test');
  require('./literals.test');
  require('./notebook.test');
  require('./live.test');
  require('./autoExplain.test');
  require('./selfRatingAndVariants.test');
  require('./layerMethods.test');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const report: SuiteReport = { passed: 0, failed: 0, pending: 0, tests: [], finishedAt: '' };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        report.finishedAt = new Date().toISOString();
        fs.writeFileSync(out, JSON.stringify(report, null, 2));
        log(`promptscope-suite: ${report.passed} passed, ${report.failed} failed, ${report.pending} pending`);
        if (failures > 0) reject(new Error(`${failures} extension tests failed.`));
        else resolve();
      });
      runner.on('pass', (t) => {
        report.passed++;
        report.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
        log(`  ✓ ${t.fullTitle()} (${t.duration} ms)`);
      });
      runner.on('fail', (t, err: Error) => {
        report.failed++;
        report.tests.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) });
        log(`  ✗ ${t.fullTitle()}\n${String(err?.stack ?? err)}`);
      });
      runner.on('pending', (t) => {
        report.pending++;
        report.tests.push({ title: t.fullTitle(), state: 'pending' });
      });
    } catch (err) {
      report.failed++;
      report.tests.push({ title: 'suite setup', state: 'failed', error: String((err as Error)?.stack ?? err) });
      fs.writeFileSync(out, JSON.stringify(report, null, 2));
      reject(err);
    }
  });
}
