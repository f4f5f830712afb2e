import { buildFixture } from './fixture/build.js';

export default async function globalSetup(): Promise<void> {
  await buildFixture();
}
