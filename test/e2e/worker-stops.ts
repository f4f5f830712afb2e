/**
 * Stops Chromium's service workers over CDP (`ServiceWorker.stopAllWorkers`) and waits until each one that
 * ran has been reported stopped — for the three places that stop workers (e2e helpers, the engines'
 * Chromium harness, the bench), each with its own CDP client and its own way of waiting. Chromium reports
 * the versions it has only after `ServiceWorker.enable` has answered, and a worker `stopped` only after
 * `stopAllWorkers` has answered (measured, Chromium 156): which workers run is read from that first report,
 * and their stop waited for after the command. A pending fetch may start one again at once: that is a new
 * worker, and fine.
 */
export interface VersionReport {
  versionId: string;
  scriptURL: string;
  runningStatus: string;
}

export interface StopDriver {
  send(method: 'ServiceWorker.enable' | 'ServiceWorker.stopAllWorkers'): Promise<unknown>;
  /** Calls `listener` with the `versions` of every `ServiceWorker.workerVersionUpdated` event. */
  onVersions(listener: (versions: readonly VersionReport[]) => void): void;
  /** Resolves once `check()` is true; rejects, naming `what`, when it does not become true in time. */
  waitFor(what: string, check: () => boolean): Promise<unknown>;
}

/** `matches`: which workers count, by script URL (default: all). */
export async function stopServiceWorkers(driver: StopDriver, matches: (scriptURL: string) => boolean = () => true): Promise<void> {
  let reports = 0;
  const status = new Map<string, string>();
  /** versionId → the number of the report that last said it stopped. */
  const stoppedAt = new Map<string, number>();
  driver.onVersions((versions) => {
    reports++;
    for (const v of versions) {
      if (!matches(v.scriptURL)) continue;
      status.set(v.versionId, v.runningStatus);
      if (v.runningStatus === 'stopped') stoppedAt.set(v.versionId, reports);
    }
  });
  await driver.send('ServiceWorker.enable');
  await driver.waitFor('Chromium to report its service workers', () => reports > 0);
  const since = reports;
  const running = [...status].filter(([, s]) => s !== 'stopped').map(([id]) => id);
  await driver.send('ServiceWorker.stopAllWorkers');
  await driver.waitFor('Chromium to report every running worker stopped', () => running.every((id) => (stoppedAt.get(id) ?? 0) > since));
}
