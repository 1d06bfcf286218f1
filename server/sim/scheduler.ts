/**
 * When things happen outside the engine: the market feed, the venue's answers, the strategies'
 * turns. Live, on the wall clock; in simulation, on a virtual clock that jumps from one task to
 * the next and awaits each before the next, so a run is deterministic.
 */
export interface Scheduler {
  now(): number;
  /** Runs `task` at `time` (at once if it has passed); returns a function that cancels it. */
  at(time: number, task: () => void | Promise<void>): () => void;
}

/** Tasks on the wall clock. A task's error is logged, never thrown into the timer. */
export class WallClockScheduler implements Scheduler {
  now(): number {
    return Date.now();
  }

  at(time: number, task: () => void | Promise<void>): () => void {
    const timer = setTimeout(() => {
      Promise.resolve()
        .then(task)
        .catch((error: unknown) => console.error(`scheduled task failed: ${error instanceof Error ? error.message : String(error)}`));
    }, Math.max(0, time - Date.now()));
    timer.unref();
    return () => clearTimeout(timer);
  }
}

type Entry = { readonly time: number; readonly order: number; readonly task: () => void | Promise<void>; cancelled: boolean };

/** A virtual clock: `runUntil` executes the due tasks in time order (ties in the order scheduled). */
export class VirtualScheduler implements Scheduler {
  private time: number;
  private counter = 0;
  private readonly heap: Entry[] = [];

  constructor(startAt: number) {
    this.time = startAt;
  }

  now(): number {
    return this.time;
  }

  at(time: number, task: () => void | Promise<void>): () => void {
    const entry: Entry = { time: Math.max(time, this.time), order: this.counter++, task, cancelled: false };
    this.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /** Runs every task due up to `end`, each awaited before the next, then sets the clock to `end`. */
  async runUntil(end: number): Promise<void> {
    while (this.heap.length > 0 && this.heap[0]!.time <= end) {
      const entry = this.pop();
      if (entry.cancelled) continue;
      this.time = entry.time;
      await entry.task();
    }
    this.time = Math.max(this.time, end);
  }

  private before(a: Entry, b: Entry): boolean {
    return a.time < b.time || (a.time === b.time && a.order < b.order);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}
