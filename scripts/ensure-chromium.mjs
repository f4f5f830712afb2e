#!/usr/bin/env node
// Finds the Chromium the browser tests run in, or installs Debian's package. Never downloads a browser build.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function chromiumPath() {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

function works(path) {
  return existsSync(path) && spawnSync(path, ['--version'], { stdio: 'ignore' }).status === 0;
}

const path = chromiumPath();
if (works(path)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (!process.env.CHROMIUM_PATH && isRoot && hasApt) {
  console.log('Chromium not found: installing Debian\'s chromium package (apt-get) ...');
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch {
    // reported below
  }
  if (works(path)) process.exit(0);
}

console.error(`
The browser tests need Chromium, and none was found at ${path}.
  - Debian/Ubuntu: sudo apt-get install chromium   (then run npm test again)
  - Elsewhere: set CHROMIUM_PATH to a Chromium or Chrome binary.
This project never downloads a browser build (no "npx playwright install").
`);
process.exit(1);
