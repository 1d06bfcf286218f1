import { nextResetAt } from "./engine/calendar";
import type { Runtime } from "./runtime";

/**
 * Starts each trading day on time: advances the engine's clock now, then at every reset
 * instant of the configuration in force. Returns a function that stops the timer.
 */
export function scheduleDailyResets(runtime: Runtime, clock: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      await runtime.advanceClock();
    } catch (error) {
      console.error(`daily reset: ${(error as Error).message}; retrying in 5 s`);
      if (!stopped) timer = setTimeout(() => void tick(), 5_000).unref();
      return;
    }
    if (stopped) return;
    const delayMs = Math.max(0, nextResetAt(clock(), runtime.config.dailyReset) - clock());
    // Wake at least hourly, so a changed configuration or a clock jump is picked up.
    timer = setTimeout(() => void tick(), Math.min(delayMs + 5, 3_600_000)).unref();
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
