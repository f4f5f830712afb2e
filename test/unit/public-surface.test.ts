import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from '../../src/client/index.js';
import * as worker from '../../src/sw/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let out: string;

beforeAll(() => {
  // The declarations exactly as `npm run build` emits them, into a folder of this test's own.
  out = mkdtempSync(join(tmpdir(), 'sw-token-proxy-dts-'));
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'pipe' });
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every declaration file a user's compiler reads from the two entries. */
function reached(): string[] {
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, path] of readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), path!.replace(/\.js$/, '.d.ts'));
      if (existsSync(target)) walk(target);
    }
  };
  walk(join(out, 'sw/index.d.ts'));
  walk(join(out, 'client/index.d.ts'));
  return [...seen].map((file) => relative(out, file)).sort();
}

/** The names an entry's declaration exports. */
function exportedNames(entry: string): string[] {
  const text = readFileSync(join(out, entry), 'utf8');
  const names = [...text.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap(([, list]) => list!.split(',').map((n) => n.replace(/\btype\b/, '').trim()).filter(Boolean));
  for (const [, name] of text.matchAll(/export (?:declare )?(?:function|interface|class|type|const) (\w+)/g)) names.push(name!);
  return names.sort();
}

describe('the public surface', () => {
  it('reaches no internal declaration: no engine, database, facade or feature contract', () => {
    expect(reached()).toEqual([
      'client/index.d.ts',
      'shared/errors.d.ts',
      'shared/protocol.d.ts',
      'sw/config.d.ts',
      'sw/feature.d.ts',
      'sw/features/api-strategies.d.ts',
      'sw/features/dpop/dpop-proofs.d.ts',
      'sw/features/login-capture.d.ts',
      'sw/features/memory-storage.d.ts',
      'sw/features/outbox/offline-outbox.d.ts',
      'sw/features/sign-in/oidc-sign-in.d.ts',
      'sw/index.d.ts',
    ]);
  });

  it('sw-token-proxy/sw exports exactly its list', () => {
    expect(Object.keys(worker).sort()).toEqual(['TokenProxyError', 'apiStrategies', 'captureLogins', 'dpopProofs', 'installTokenProxy', 'memoryStorage', 'offlineOutbox', 'oidcSignIn']);
    expect(exportedNames('sw/index.d.ts')).toEqual(
      [
        'ApiRoute', 'ApiScope', 'CaptureFeature', 'CaptureOptions', 'DpopFeature', 'ErrorCode', 'ErrorInfo', 'InstallOptions', 'OidcSignInOptions', 'OutboxFeature', 'OutboxOptions',
        'RefreshRequestContext', 'RefreshRequestShape', 'SignInFeature', 'StorageFeature', 'StrategiesFeature', 'StrategyLike', 'TokenProxyConfig', 'TokenProxyError', 'TokenProxyErrorOptions', 'TokenResponse',
        'apiStrategies', 'captureLogins', 'dpopProofs', 'installTokenProxy', 'memoryStorage', 'offlineOutbox', 'oidcSignIn',
      ].sort(),
    );
  });

  it('sw-token-proxy/client exports exactly its list: no wire types', () => {
    expect(Object.keys(client).sort()).toEqual(['TokenProxyError', 'registerTokenProxy']);
    expect(exportedNames('client/index.d.ts')).toEqual(
      [
        'ErrorCode', 'ErrorInfo', 'LogoutOptions', 'LogoutReason', 'LogoutResult', 'OutboxEntrySummary', 'RegisterOptions', 'ReplayFailureReason', 'ReplayReport',
        'SessionEvent', 'SessionEventOf', 'SessionEventType', 'SessionStatus', 'SignInOptions', 'TokenProxy', 'TokenProxyError', 'TokenProxyErrorOptions', 'TokenResponse',
        'registerTokenProxy',
      ].sort(),
    );
  });
});
