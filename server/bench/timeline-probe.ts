// A timeline of what holds a server up, preloaded into the servers a benchmark starts:
//
//     BENCH_SERVER_IMPORTS=./server/bench/timeline-probe.ts npm run bench:firm
//
// Appends one line per event to TIMELINE_LOG (default /tmp/riskgate-timeline.log), each
// starting with the milliseconds since the probe loaded in that process (several servers
// append to one file: each starts with a `0 START` line):
//   - `0 START pid <pid> epoch <ms> monotonic <ns>`: to line the timeline up with a log (epoch)
//     or with `perf record -k CLOCK_MONOTONIC` samples (monotonic);
//   - `<t> GC <kind> <ms>`: a garbage collection pause over 1 ms (kind: 1 young, 4 full, 8 an
//     incremental marking step, as node:perf_hooks numbers them);
//   - `<t> LOOP <ms>`: the event loop held more than 4 ms beyond its 2 ms timer;
//   - `<t> APPEND <events> <ms> <types>`: a `Ledger.append` over 3 ms (call to resolution, so it
//     includes the loop's turn to take the answer);
//   - `<t> REQ <path> <ms>`: a POST over 6 ms inside the process (headers parsed to answer sent);
//   - `<t> SLICE <ms> <stack>`: a background slice (`Slicer`) that ran over 12 ms, and where.
// TIMELINE_HEAP_SAMPLE="<from ms>-<to ms>": heap sampling over that span of the process's life,
// keeping what major collections freed (what was promoted, then died): written to
// /tmp/riskgate-heap-<pid>.json (a Chrome DevTools sampling heap profile), in the first process
// whose heap is over TIMELINE_HEAP_MIN_MB (default 0) when the span starts.
// Found with it (README, Firm scale): the stall clusters of V8's major collections at 10,000 accounts.
import fs from "node:fs";
import http from "node:http";
import inspector from "node:inspector";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { Ledger } from "../ledger";
import { Slicer } from "../slices";

const FILE = process.env.TIMELINE_LOG ?? "/tmp/riskgate-timeline.log";
const started = performance.now();
const lines: string[] = [`0 START pid ${process.pid} epoch ${Date.now()} monotonic ${process.hrtime.bigint()}`];
const since = (at: number) => (at - started).toFixed(1);

const flush = () => {
  if (lines.length > 0) fs.appendFileSync(FILE, `${lines.splice(0).join("\n")}\n`);
};
setInterval(flush, 1_000).unref();
process.on("exit", flush);

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.duration > 1) lines.push(`${since(entry.startTime)} GC ${((entry as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind ?? "?"} ${entry.duration.toFixed(1)}`);
  }
}).observe({ entryTypes: ["gc"] });

let lastTurn = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - lastTurn > 6) lines.push(`${since(lastTurn)} LOOP ${(now - lastTurn - 2).toFixed(1)}`);
  lastTurn = now;
}, 2).unref();

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === "request") {
    const [request, response] = args as [http.IncomingMessage, http.ServerResponse];
    if (request.method === "POST") {
      const at = performance.now();
      response.once("finish", () => {
        const ms = performance.now() - at;
        if (ms > 6) lines.push(`${since(at)} REQ ${request.url} ${ms.toFixed(1)}`);
      });
    }
  }
  return Reflect.apply(emit, this, [event, ...args]) as boolean;
} as typeof emit;

const append = Ledger.prototype.append;
Ledger.prototype.append = async function (this: Ledger, entries) {
  const at = performance.now();
  try {
    return await append.call(this, entries);
  } finally {
    const ms = performance.now() - at;
    if (ms > 3) lines.push(`${since(at)} APPEND ${entries.length} ${ms.toFixed(1)} ${entries.map((entry) => entry.event.type).join(",").slice(0, 80)}`);
  }
};

const next = Slicer.prototype.next;
Slicer.prototype.next = function (this: Slicer) {
  const from = (this as unknown as { from: number }).from;
  const ran = performance.now() - from;
  if (ran > 12) {
    const where = (new Error().stack ?? "").split("\n").slice(2, 7).map((line) => line.trim().replace(/^at /, "")).join(" < ");
    lines.push(`${since(from)} SLICE ${ran.toFixed(1)} ${where}`);
  }
  return next.call(this);
};

const heapSample = process.env.TIMELINE_HEAP_SAMPLE?.match(/^(\d+)-(\d+)$/);
if (heapSample) {
  const [from, to] = [Number(heapSample[1]), Number(heapSample[2])];
  const minBytes = Number(process.env.TIMELINE_HEAP_MIN_MB ?? 0) * 1024 * 1024;
  const session = new inspector.Session();
  session.connect();
  const post = <T>(method: string, params: object = {}) => new Promise<T>((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
  let sampling = false;
  const timer = setInterval(() => {
    const at = performance.now() - started;
    if (!sampling && at >= from && process.memoryUsage().heapUsed >= minBytes) {
      sampling = true;
      post("HeapProfiler.startSampling", { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false }).then(
        () => lines.push(`${since(performance.now())} HEAP sampling`),
        (error: unknown) => lines.push(`${since(performance.now())} HEAP could not sample: ${(error as Error).message}`),
      );
    } else if (sampling && at >= to) {
      clearInterval(timer);
      post<{ profile: unknown }>("HeapProfiler.stopSampling").then(
        ({ profile }) => {
          const file = `/tmp/riskgate-heap-${process.pid}.json`;
          fs.writeFileSync(file, JSON.stringify(profile));
          lines.push(`${since(performance.now())} HEAP written ${file}`);
        },
        (error: unknown) => lines.push(`${since(performance.now())} HEAP could not stop sampling: ${(error as Error).message}`),
      );
    }
  }, 200);
  timer.unref();
}
