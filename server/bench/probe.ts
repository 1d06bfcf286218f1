// Preloaded by `npm run bench:api` into the servers it measures (`--import tsx --import
// ./server/bench/probe.ts`), Riskgate's and the floor's alike: where a request's time goes inside
// the server process, without touching the server's code.
//   - requests: POST time inside the process, from the 'request' event (headers parsed) to the
//     response's 'finish' (its last byte handed to the kernel);
//   - appends: `Ledger.append` calls, call to resolution (the commit and the wait for the event
//     loop to take its answer), and the events they carried;
//   - lookups: `Ledger.seqsOfKeys` (the runtime looks a batch's intent keys up before deciding);
//   - intents: `Runtime.submitIntent`, call to answer (queue, key lookup, decide, commit, adopt);
//     the rest of a request's time is the HTTP path (body, auth, zod, Request and Response);
//   - cpu: the process's user and system CPU time; loop: its event-loop utilization.
//   - with BENCH_PROFILE=1, a CPU profile (V8's sampler, every 500 µs) of the same window, its
//     samples summed two ways: by the nearest project file on the stack (server/…, app/…: the code
//     that caused the work, e.g. a socket write under Ledger.append counts for server/ledger.ts),
//     and by the place of the code running (a package, a runtime module, GC…); BENCH_PROFILE_DIR
//     keeps each window's whole profile in that folder.
// On SIGUSR2 it prints one line `BENCH_PROBE {json}` with the figures since the previous report,
// and starts again.
import fs from "node:fs";
import http from "node:http";
import inspector from "node:inspector";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Ledger } from "../ledger";
import { Runtime } from "../runtime";

class Durations {
  private values: number[] = [];
  private sum = 0;
  add(ms: number): void {
    this.values.push(ms);
    this.sum += ms;
  }
  report(): { count: number; meanMs: number; p50Ms: number; p99Ms: number; totalMs: number } {
    const sorted = Float64Array.from(this.values).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const report = { count: sorted.length, meanMs: sorted.length ? this.sum / sorted.length : 0, p50Ms: at(0.5), p99Ms: at(0.99), totalMs: this.sum };
    this.values = [];
    this.sum = 0;
    return report;
  }
}

const requests = new Durations();
const appends = new Durations();
const lookups = new Durations();
const intents = new Durations();
let appendedEvents = 0;
let since = performance.now();
let cpu = process.cpuUsage();
let loop = performance.eventLoopUtilization();

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === "request") {
    const [request, response] = args as [http.IncomingMessage, http.ServerResponse];
    if (request.method === "POST") {
      const started = performance.now();
      response.once("finish", () => requests.add(performance.now() - started));
    }
  }
  return Reflect.apply(emit, this, [event, ...args]) as boolean;
} as typeof emit;

const append = Ledger.prototype.append;
Ledger.prototype.append = async function (this: Ledger, entries) {
  const started = performance.now();
  try {
    return await append.call(this, entries);
  } finally {
    appends.add(performance.now() - started);
    appendedEvents += entries.length;
  }
};

const seqsOfKeys = Ledger.prototype.seqsOfKeys;
Ledger.prototype.seqsOfKeys = async function (this: Ledger, keys) {
  const started = performance.now();
  try {
    return await seqsOfKeys.call(this, keys);
  } finally {
    lookups.add(performance.now() - started);
  }
};

const submitIntent = Runtime.prototype.submitIntent;
Runtime.prototype.submitIntent = async function (this: Runtime, intent, by) {
  const started = performance.now();
  try {
    return await submitIntent.call(this, intent, by);
  } finally {
    intents.add(performance.now() - started);
  }
};

// --- the CPU profile (BENCH_PROFILE=1) ---

type Profile = { nodes: { id: number; callFrame: { url: string; functionName: string }; children?: number[] }[]; samples: number[]; timeDeltas: number[] };

const PROJECT = `file://${path.resolve(import.meta.dirname, "..", "..")}/`;
const session = process.env.BENCH_PROFILE === "1" ? new inspector.Session() : null;
/** BENCH_PROFILE_DIR: also keep each window's whole profile there (`<pid>-<n>.cpuprofile`, for DevTools). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
let profilesWritten = 0;

function post<T = unknown>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))));
}

if (session) {
  session.connect();
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 500 });
  await post("Profiler.start");
}

/** Where a frame's code lives: a project file, a runtime module, a package, or V8's own entries such as (garbage collector). */
function placeOf(frame: { url: string; functionName: string }): { place: string; project: boolean } {
  const { url, functionName } = frame;
  if (!url) return { place: functionName.startsWith("(") ? functionName : `(native ${functionName || "code"})`, project: false };
  const packageAt = url.lastIndexOf("/node_modules/");
  if (packageAt >= 0) {
    const [scope, name] = url.slice(packageAt + "/node_modules/".length).split("/");
    return { place: scope!.startsWith("@") ? `${scope}/${name}` : scope!, project: false };
  }
  // The probe's own wrappers are looked through: what runs under them counts for its caller's place.
  if (url.startsWith(PROJECT)) return { place: url.slice(PROJECT.length), project: url !== import.meta.url };
  return { place: url, project: false };
}

type Shares = [string, number][];

/**
 * The profile's samples as shares of the wall time, largest first, two ways: `byCaller`, by the
 * nearest project file from the leaf (else the leaf's place); `byLeaf`, by the place of the code
 * that was running (a package, a runtime module, a project file, or V8's (garbage collector)…).
 */
function summarize(profile: Profile): { sampledMs: number; byCaller: Shares; byLeaf: Shares } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const placesOfNode = new Map<number, { caller: string; leaf: string }>();
  const attribute = (id: number) => {
    const known = placesOfNode.get(id);
    if (known) return known;
    const leaf = placeOf(nodes.get(id)!.callFrame).place;
    let caller = leaf;
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = placeOf(nodes.get(at)!.callFrame);
      if (frame.project) {
        caller = frame.place;
        break;
      }
    }
    const places = { caller, leaf };
    placesOfNode.set(id, places);
    return places;
  };
  const byCaller = new Map<string, number>();
  const byLeaf = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index] ?? 0;
    total += us;
    const { caller, leaf } = attribute(id);
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + us);
    byLeaf.set(leaf, (byLeaf.get(leaf) ?? 0) + us);
  });
  const shares = (map: Map<string, number>): Shares => [...map].map(([place, us]): [string, number] => [place, us / Math.max(1, total)]).sort((a, b) => b[1] - a[1]);
  return { sampledMs: total / 1_000, byCaller: shares(byCaller), byLeaf: shares(byLeaf) };
}

export type ProbeReport = {
  seconds: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  loopUtilization: number;
  requests: ReturnType<Durations["report"]>;
  appends: ReturnType<Durations["report"]>;
  appendedEvents: number;
  lookups: ReturnType<Durations["report"]>;
  intents: ReturnType<Durations["report"]>;
  profile: ReturnType<typeof summarize> | null;
};

process.on("SIGUSR2", () => void report());

async function report(): Promise<void> {
  const now = performance.now();
  const used = process.cpuUsage(cpu);
  const figures: Omit<ProbeReport, "profile"> = {
    seconds: (now - since) / 1_000,
    cpuUserMs: used.user / 1_000,
    cpuSystemMs: used.system / 1_000,
    loopUtilization: performance.eventLoopUtilization(loop).utilization,
    requests: requests.report(),
    appends: appends.report(),
    appendedEvents,
    lookups: lookups.report(),
    intents: intents.report(),
  };
  // The profile is summed up outside the next window: its clock and CPU readings start after.
  const raw = session ? (await post<{ profile: Profile }>("Profiler.stop")).profile : null;
  if (raw && PROFILE_DIR) fs.writeFileSync(path.join(PROFILE_DIR, `${process.pid}-${++profilesWritten}.cpuprofile`), JSON.stringify(raw));
  const profile = raw ? summarize(raw) : null;
  if (session) await post("Profiler.start");
  appendedEvents = 0;
  since = performance.now();
  cpu = process.cpuUsage();
  loop = performance.eventLoopUtilization();
  process.stdout.write(`BENCH_PROBE ${JSON.stringify({ ...figures, profile } satisfies ProbeReport)}\n`);
}
