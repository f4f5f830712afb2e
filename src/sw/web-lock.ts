/**
 * A Web Lock shared by every worker version and page of the origin. Where Web Locks are missing (Safari
 * before 15.4) each worker still runs one flight at a time; only two versions side by side during an
 * update are then not coordinated.
 */
export function webLock(name: string): <T>(task: () => Promise<T>) => Promise<T> {
  return (task) => ('locks' in navigator ? navigator.locks.request(name, task) : task());
}
