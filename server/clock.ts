import type { Runtime } from "./runtime";

/**
 * Advances the engine's clock now, then at every deadline the engine names: each daily reset
 * and each automatic breaker reset. A breaker trip brings the next wake-up forward. Returns a
 * function that stops the timer.
 */
export function scheduleClock(runtime: Runtime, clock: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    // Wake at least hourly, so a changed configuration or a clock jump is picked up.
    timer = setTimeout(() => void tick(), Math.min(Math.max(0, delayMs), 3_600_000)).unref();
  };

  const tick = async () => {
    try {
      await runtime.advanceClock();
    } catch (error) {
      console.error(`clock: ${(error as Error).message}; retrying in 5 s`);
      schedule(5_000);
      return;
    }
    schedule(runtime.nextDeadline() - clock() + 5);
  };

  const unsubscribe = runtime.subscribe((committed) => {
    if (committed.records.some((record) => record.event.type === "breaker.tripped")) {
      schedule(runtime.nextDeadline() - clock() + 5);
    }
  });
  void tick();
  return () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
}
