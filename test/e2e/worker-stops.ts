/**
 * Reads Chromium's `ServiceWorker.workerVersionUpdated` reports around a CDP `ServiceWorker.stopAllWorkers`,
 * for the three places that stop workers (e2e helpers, the engines' Chromium harness, the bench). Chromium
 * reports the versions it has only after `ServiceWorker.enable` has answered, and a worker `stopped` only
 * after `stopAllWorkers` has answered (measured, Chromium 156): which workers run must be read from that
 * first report, and their stop waited for after the command.
 */
export interface VersionReport {
  versionId: string;
  scriptURL: string;
  runningStatus: string;
}

export interface WorkerStops {
  /** Feed every `workerVersionUpdated` event's `versions` here. */
  onVersions(versions: readonly VersionReport[]): void;
  /** Whether Chromium has reported its versions since `enable`. */
  reported(): boolean;
  /**
   * Called just before `stopAllWorkers`: the versions not stopped now, and a check that each of them has
   * been reported stopped since (a pending fetch may start one again at once: that is a new worker, and fine).
   */
  expectStops(): () => boolean;
}

/** `matches`: which workers count, by script URL (default: all). */
export function trackWorkerStops(matches: (scriptURL: string) => boolean = () => true): WorkerStops {
  let reports = 0;
  const status = new Map<string, string>();
  /** versionId → the number of the report that last said it stopped. */
  const stoppedAt = new Map<string, number>();
  return {
    onVersions(versions) {
      reports++;
      for (const v of versions) {
        if (!matches(v.scriptURL)) continue;
        status.set(v.versionId, v.runningStatus);
        if (v.runningStatus === 'stopped') stoppedAt.set(v.versionId, reports);
      }
    },
    reported: () => reports > 0,
    expectStops() {
      const since = reports;
      const running = [...status].filter(([, s]) => s !== 'stopped').map(([id]) => id);
      return () => running.every((id) => (stoppedAt.get(id) ?? 0) > since);
    },
  };
}
