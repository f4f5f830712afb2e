/**
 * Holds whoever calls `pass()` until `open()`. `reached` resolves once the first caller is held, so a test
 * can check what waits behind it before letting it go (releasing earlier would prove nothing).
 */
export function createGate(): { pass: () => Promise<void>; reached: Promise<void>; open: () => void; held: () => number } {
  let open!: () => void;
  let arrived!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  let held = 0;
  return {
    async pass() {
      held++;
      arrived();
      await opened;
    },
    reached,
    open,
    held: () => held,
  };
}
