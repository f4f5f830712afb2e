// Runs the benchmarks once in their quick mode, so `npm run bench` never rots. It checks that the bench
// works and prints every figure; it does not judge the figures (a missed goal is a measurement, not a
// failure — the bench exits non-zero only when the measurement itself went wrong).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// (d), AXA's @axa-fr/oidc-client, has rows of its own in every figure: 1e–1h, 2c–2d, 3g–3j, 4b–4c, 5b, 6b, 7i–7j.
const FIGURES = [
  ...['1a', '1b', '1c', '1d', '1e', '1f', '1g', '1h'],
  ...['2a', '2b', '2c', '2d'],
  ...['3a', '3b', '3c', '3d', '3e', '3f', '3g', '3h', '3i', '3j'],
  ...['4', '4b', '4c', '5', '5b', '6', '6b'],
  ...['7a', '7b', '7c', '7d', '7e', '7f', '7g', '7h', '7i', '7j'],
];
const RANGED = ['1a', '1b', '1c', '1d', '1e', '1f', '1g', '1h', '2a', '2b', '2c', '2d', '3c', '3f', '3i', '3j', '4'];

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('node bench/index.mjs --quick runs and prints every figure', async () => {
  test.setTimeout(200_000);
  const { code, stdout, stderr } = await run(['bench/index.mjs', '--quick'], 180_000);
  expect(code, `exit code\n--- stdout\n${stdout}\n--- stderr\n${stderr}`).toBe(0);
  const lines = stdout.split('\n');
  expect(lines[0]).toMatch(/^sw-token-proxy bench \(--quick\) · .+ · node v\d+.* · Chromium \d+/);
  expect(lines[1]).toMatch(/^#\s+\| figure\s+\| measured\s+\| baseline\s+\| ratio\s+\| goal\s+\| ok\?$/);
  for (const id of FIGURES) {
    const row = lines.find((line) => line.startsWith(`${id.padEnd(2)} | `));
    expect(row, `row ${id}`).toBeDefined();
    // six columns after the id, and an ok? verdict in the last one
    const cells = row!.split(' | ').map((cell) => cell.trim());
    expect(cells, `row ${id}: ${row}`).toHaveLength(7);
    expect(['yes', 'NO', '—'], `row ${id}: ${row}`).toContain(cells[6]);
    // figures over rounds print the median ratio with its range over rounds
    if (RANGED.includes(id)) expect(cells[4], `row ${id}: ${row}`).toMatch(/^\d+\.\d{3} \(\d+\.\d{3}–\d+\.\d{3}\)$/);
  }
});
