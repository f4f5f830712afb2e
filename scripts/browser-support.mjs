#!/usr/bin/env node
// The README's browser-support grid, made from the last run of the shared browser scenarios
// (`npm run test:engines` writes test/engines/.build/reports/support-<engine>.json).
// `node scripts/browser-support.mjs` prints it; `--write` puts it into README.md between its markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const reports = join(root, 'test', 'engines', '.build', 'reports');
const ENGINES = ['chromium', 'firefox', 'webkit'];

/** Each scenario file as a feature a user would look for; the order is the grid's. */
const FEATURES = [
  ['events-multi-tab-login.ts', 'Login in one tab, heard in every tab'],
  ['allow-list-shapes.ts', 'The token goes only where allowed (29 request shapes)'],
  ['storm-at-expiry.ts', 'A storm at expiry: exactly one refresh'],
  ['reactive-401-replay.ts', 'A 401: one refresh, the request replayed with its body'],
  ['invalid-grant-broadcast.ts', 'A rejected refresh token ends the session in every tab'],
  ['logout-propagation.ts', 'Logout heard in every tab within 100 ms'],
  ['transient-503.ts', 'Passing refresh failures (503) keep the session'],
  ['transient-429-retry-after.ts', '429 with Retry-After honoured'],
  ['worker-restart.ts', 'Worker stopped and restarted: the session kept'],
  ['worker-restart-memory-only.ts', 'Memory-only storage: a restart ends the session, said to every tab'],
  ['worker-update-storm.ts', 'A worker update during a storm: no duplicate refresh'],
  ['offline-outbox.ts', 'Offline writes kept and delivered in order (network cut)'],
  ['uncontrolled-page.ts', 'Uncontrolled pages claimed'],
  ['sign-in.ts', 'Sign-in run by the worker (OIDC code + PKCE)'],
  ['workbox-composed.ts', 'Beside workbox in one worker, its routes added first'],
  ['storage-database-deleted.ts', 'Database deleted under open tabs: a clean logout'],
  ['storage-site-data-cleared.ts', 'Site data cleared: no hang, the page learns it'],
  ['storage-outbox-quota.ts', 'An outbox write over the quota: 507, nothing lost'],
  ['storage-open-fails.ts', 'IndexedDB cannot open: a typed error, calls go out bare'],
];

function grid() {
  const runs = ENGINES.map((engine) => {
    const file = join(reports, `support-${engine}.json`);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
  });
  const missing = ENGINES.filter((_, i) => !runs[i]);
  if (missing.length > 0) throw new Error(`no report for ${missing.join(', ')}: run \`npm run test:engines\` first`);
  const known = new Set(FEATURES.map(([file]) => file));
  const unknown = runs.flatMap((run) => run.outcomes.map((o) => o.file)).filter((file) => !known.has(file));
  if (unknown.length > 0) throw new Error(`scenarios without a feature line here: ${[...new Set(unknown)].join(', ')}`);

  const notes = [];
  const note = (reason) => (notes.includes(reason) ? notes : notes.push(reason) && notes).indexOf(reason) + 1;
  const cell = (run, file) => {
    const outcome = run.outcomes.find((o) => o.file === file);
    if (!outcome) return '?';
    if (outcome.outcome === 'pass') return '✓';
    if (outcome.outcome === 'fail') return '✗ failed';
    return `— ${outcome.outcome === 'skip' ? 'not testable here' : 'known gap'} [${note(outcome.reason)}]`;
  };
  // puppeteer says "firefox/153.8.0": the engine's name as the others read
  const version = (run) => run.version.replace(/^firefox\//, 'Firefox ');
  const lines = [
    `| feature | ${runs.map(version).join(' | ')} |`,
    `|---|${runs.map(() => '---').join('|')}|`,
    ...FEATURES.map(([file, label]) => `| ${label} | ${runs.map((run) => cell(run, file)).join(' | ')} |`),
  ];
  return [...lines, '', ...notes.map((text, i) => `- [${i + 1}] ${text}.`)].join('\n');
}

const table = grid();
if (process.argv.includes('--write')) {
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- browser-support:start (scripts/browser-support.mjs --write) -->';
  const end = '<!-- browser-support:end -->';
  const at = text.indexOf(start);
  const until = text.indexOf(end);
  if (at < 0 || until < at) throw new Error(`README.md lacks the markers ${start} … ${end}`);
  writeFileSync(readme, `${text.slice(0, at + start.length)}\n${table}\n${text.slice(until)}`);
  console.log('README.md: browser-support grid written');
} else {
  console.log(table);
}
