import { describe, expect, it, vi } from "vitest";
import { FOREGROUND_WAIT_MS, HURRIED_SLICE_MS, SLICE_MS, Slicer, foreground, sortInSlices } from "@/server/slices";

describe("sortInSlices", () => {
  it("orders as Array.prototype.sort does, stable, pausing between slices", async () => {
    for (const n of [0, 1, 511, 512, 513, 1_000, 4_097, 10_000]) {
      const items = Array.from({ length: n }, (_, i) => ({ key: Math.floor(Math.sin(i * 7.3) * 50), i }));
      let pauses = 0;
      // A slicer whose every slice is due at once: the most pauses the sort can take.
      const slicer = new Slicer(async () => void pauses++, 0);
      const sorted = await sortInSlices(items, (a, b) => a.key - b.key, slicer);
      expect(sorted).toEqual([...items].sort((a, b) => a.key - b.key));
      expect(items.map((item) => item.i)).toEqual(Array.from({ length: n }, (_, i) => i)); // the input is left as it was
      if (n > 512) expect(pauses).toBeGreaterThanOrEqual(Math.ceil(n / 512));
    }
  });
});

describe("the foreground", () => {
  it("holds a background slice back while a command is in flight, and lets it go when the command is answered", async () => {
    const slicer = new Slicer(async () => undefined, 0);
    foreground.begin();
    let started = false;
    const next = slicer.next().then(() => (started = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(started).toBe(false);
    foreground.end();
    await next;
    expect(started).toBe(true);
    expect(foreground.busy).toBe(false);
  });

  it("never holds a slice back longer than FOREGROUND_WAIT_MS under a load that never lets the queue empty", async () => {
    const slicer = new Slicer(async () => undefined, 0);
    foreground.begin();
    try {
      const from = performance.now();
      await slicer.next();
      const waited = performance.now() - from;
      expect(waited).toBeGreaterThanOrEqual(FOREGROUND_WAIT_MS - 1);
      expect(waited).toBeLessThan(FOREGROUND_WAIT_MS + 500);
      // A wait that timed out leaves nothing behind (a desk under load for hours would pile them up).
      expect(foreground.waiting).toBe(0);
    } finally {
      foreground.end();
    }
  });
});

describe("background work", () => {
  it("rests as a whole: two passes at once take about half the loop between them, not all of it", async () => {
    let busy = 0;
    const pass = async () => {
      const slicer = new Slicer(undefined, 2, 1);
      const until = performance.now() + 150;
      while (performance.now() < until) {
        const from = performance.now();
        while (!slicer.due) {
          // a slice of work
        }
        busy += performance.now() - from;
        await slicer.next();
      }
      slicer.end();
    };
    const started = performance.now();
    await Promise.all([pass(), pass()]);
    const share = busy / (performance.now() - started);
    expect(share).toBeLessThan(0.65);
    expect(share).toBeGreaterThan(0.2);
  });
});

describe("background work someone waits for", () => {
  it("takes longer slices once hurried, so a busy loop serves it in fewer turns", () => {
    let now = 1_000;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => now);
    try {
      const pass = new Slicer(undefined, SLICE_MS, 1);
      now += SLICE_MS + 1;
      expect(pass.due).toBe(true);
      pass.hurry();
      expect(pass.due).toBe(false);
      now += HURRIED_SLICE_MS - SLICE_MS - 1;
      expect(pass.due).toBe(true);
    } finally {
      clock.mockRestore();
    }
  });

  it("goes on without the rests, and without waiting for the commands in flight, once hurried", async () => {
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // work
      }
    };
    // Another pass earns a 40 ms rest for the background as a whole.
    const other = new Slicer(undefined, 1, 1);
    busy(40);
    const resting = other.next();
    const waited = new Slicer(undefined, 1, 1);
    waited.hurry();
    busy(2);
    foreground.begin(); // a command in flight all along
    const from = performance.now();
    try {
      await waited.next();
      expect(performance.now() - from).toBeLessThan(20);
    } finally {
      foreground.end();
    }
    await resting;
    other.end();
  });
});
