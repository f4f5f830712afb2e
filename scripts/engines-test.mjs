#!/usr/bin/env node
// Runs the shared browser scenarios (test/engines) in Chromium, Firefox and WebKit, one engine after
// another (the storms must not compete for a 2-core machine), and prints each engine's counts.
// Exits non-zero when any engine failed or could not run. SKIP_ENGINES=firefox,webkit leaves engines out;
// ENGINES=chromium picks some. The broken-worker check runs in BROKEN_WORKER_ENGINE (chromium).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['chromium', 'firefox', 'webkit'];
const list = (value) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const skipped = new Set(list(process.env.SKIP_ENGINES));
for (const name of [...skipped, ...list(process.env.ENGINES)]) {
  if (!ALL.includes(name)) {
    console.error(`engines-test: unknown engine "${name}" (known: ${ALL.join(', ')})`);
    process.exit(2);
  }
}
const chosen = (list(process.env.ENGINES).length ? list(process.env.ENGINES) : ALL).filter((e) => !skipped.has(e));

/** What each engine needs on this machine, and the Debian packages that bring it. */
const NEEDS = {
  chromium: { files: [process.env.CHROMIUM_PATH || '/usr/bin/chromium'], packages: 'chromium' },
  firefox: { files: [process.env.FIREFOX_PATH || '/usr/bin/firefox-esr'], packages: 'firefox-esr' },
  webkit: {
    files: [
      process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver',
      process.env.MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
      ...(process.env.DISPLAY ? [] : ['/usr/bin/xvfb-run']),
    ],
    packages: 'webkit2gtk-driver libwebkit2gtk-4.1-0 xvfb',
  },
};

const run = (command, args, env) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

const reportDir = join(root, 'test', 'engines', '.build', 'reports');
await rm(reportDir, { recursive: true, force: true });
await mkdir(reportDir, { recursive: true });

const counts = (report) => {
  const tests = report.testResults.flatMap((file) => file.assertionResults);
  const expectedFail = (t) => t.title.includes('(expected to fail in');
  return {
    passed: tests.filter((t) => t.status === 'passed' && !expectedFail(t)).length,
    expectedFail: tests.filter((t) => t.status === 'passed' && expectedFail(t)).length,
    skipped: tests.filter((t) => t.status === 'skipped' || t.status === 'pending' || t.status === 'todo').length,
    failed: tests.filter((t) => t.status === 'failed').length,
    // What failed, and the first line of why: the summary is the part of a CI log that is always shown.
    failures: tests.filter((t) => t.status === 'failed').map((t) => `${t.title} — ${(t.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300)}`),
  };
};

const results = [];
let fixtureBuilt = false;
for (const engine of chosen) {
  const { files, packages } = NEEDS[engine];
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    console.error(
      `\n== ${engine}: cannot run — ${missing.join(', ')} not found.\n` +
        `   Install Debian's packages: apt-get install ${packages}\n` +
        `   or leave the engine out: SKIP_ENGINES=${[...skipped, engine].join(',')} npm run test:engines`,
    );
    results.push({ engine, error: `missing ${missing.join(', ')} (apt-get install ${packages}; or SKIP_ENGINES=${engine})` });
    continue;
  }
  console.log(`\n== ${engine}`);
  const outputFile = join(reportDir, `${engine}.json`);
  const vitest = [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '-c', 'test/engines/vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${outputFile}`];
  // MiniBrowser has no headless mode: its own X display per run, unless one is given.
  const [command, args] = engine === 'webkit' && !process.env.DISPLAY ? ['xvfb-run', ['-a', process.execPath, ...vitest]] : [process.execPath, vitest];
  const started = Date.now();
  // The first run builds the fixture (test/engines/.build); the others reuse it.
  const code = await run(command, args, { ENGINE: engine, PUPPETEER_SKIP_DOWNLOAD: '1', ...(fixtureBuilt ? { ENGINES_FIXTURE_BUILT: '1' } : {}) });
  const seconds = (Date.now() - started) / 1000;
  const report = existsSync(outputFile) ? JSON.parse(await readFile(outputFile, 'utf8')) : null;
  if (report) fixtureBuilt = true;
  results.push({ engine, code, seconds, ...(report ? counts(report) : { error: `vitest exited ${code} without a report` }) });
}

console.log('\n== engines summary');
for (const r of results) {
  if (r.passed === undefined) console.log(`${r.engine.padEnd(9)} NOT RUN: ${r.error}`);
  else console.log(`${r.engine.padEnd(9)} ${r.passed} passed, ${r.expectedFail} expected-fail, ${r.skipped} skipped, ${r.failed} failed — ${r.seconds.toFixed(0)} s${r.code !== 0 ? ` (exit ${r.code})` : ''}`);
  for (const failure of r.failures ?? []) console.log(`  FAILED ${failure}`);
}
for (const engine of skipped) console.log(`${engine.padEnd(9)} left out (SKIP_ENGINES)`);
const bad = results.filter((r) => r.passed === undefined || r.failed > 0 || r.code !== 0);
// The feature × engine grid of this run (README.md shows the one of its last `--write`).
if (bad.length === 0 && skipped.size === 0) await run(process.execPath, [join(root, 'scripts', 'browser-support.mjs')]);
process.exit(bad.length > 0 ? 1 : 0);
