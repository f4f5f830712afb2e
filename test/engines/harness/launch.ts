import { existsSync } from 'node:fs';
import { chromiumPath, launchChromium } from './chromium.js';
import { firefoxPath, launchFirefox } from './firefox.js';
import { launchWebKit, miniBrowserPath, webkitDriverPath } from './webkit.js';
import { ENGINES, type EngineBrowser, type EngineName } from './types.js';

export function engineFromEnv(): EngineName {
  const value = process.env['ENGINE'] ?? 'chromium';
  if (!(ENGINES as readonly string[]).includes(value)) throw new Error(`ENGINE must be one of ${ENGINES.join(', ')}; got ${value}`);
  return value as EngineName;
}

/** The files each engine needs, and the Debian packages that bring them. */
export function missingFor(engine: EngineName): { missing: string[]; packages: string } {
  const needs: Record<EngineName, { files: string[]; packages: string }> = {
    chromium: { files: [chromiumPath()], packages: 'chromium (or set CHROMIUM_PATH)' },
    firefox: { files: [firefoxPath()], packages: 'firefox-esr (or set FIREFOX_PATH)' },
    webkit: { files: [webkitDriverPath(), miniBrowserPath(), '/usr/bin/xvfb-run'], packages: 'webkit2gtk-driver libwebkit2gtk-4.1-0 xvfb' },
  };
  const { files, packages } = needs[engine];
  return { missing: files.filter((file) => !existsSync(file)), packages };
}

export async function launchEngine(engine: EngineName): Promise<EngineBrowser> {
  const { missing, packages } = missingFor(engine);
  if (missing.length > 0) {
    throw new Error(`${engine}: ${missing.join(', ')} not found. Install Debian's ${packages} (apt-get install ${packages.split(' (')[0]}), or leave the engine out with SKIP_ENGINES=${engine}`);
  }
  switch (engine) {
    case 'chromium':
      return launchChromium();
    case 'firefox':
      return launchFirefox();
    case 'webkit':
      return launchWebKit();
  }
}
