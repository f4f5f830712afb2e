import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's code samples live in examples/ (compiled by `npm run typecheck`); this keeps the two equal.
const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const samples = [...readme.matchAll(/<!-- example: (\S+) -->\n```(?:ts|js)\n([\s\S]*?)```/g)];

describe('README code samples', () => {
  it('shows the worker, the page, the plugin, the vite-plugin-pwa worker and the drop-in samples', () => {
    expect(samples.map((m) => m[1])).toEqual(
      expect.arrayContaining(['examples/sw.ts', 'examples/app.ts', 'examples/vite.config.ts', 'examples/pwa-app/src/sw.ts', 'test/e2e/fixture/dropin-sw.js']),
    );
  });

  it.each(samples.map((m) => [m[1]!, m[2]!]))('%s is shown exactly as compiled', (path, shown) => {
    expect(shown).toBe(readFileSync(new URL(path, root), 'utf8'));
  });
});
