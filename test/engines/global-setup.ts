import { buildEnginesFixture } from './fixture/build.js';

export default async function setup(): Promise<void> {
  // The runner script builds once for every engine and says so; a lone vitest run builds here.
  if (process.env['ENGINES_FIXTURE_BUILT'] !== '1') await buildEnginesFixture();
}
