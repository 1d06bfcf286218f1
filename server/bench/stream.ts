// npm run bench:stream -- --clients 500 — live updates to N Socket.IO clients (default 500) from
// the real server (`server/main.ts`, production build of Next, a child process, the embedded
// PostgreSQL in a temporary directory, the three demo accounts). The clients connect as programs
// do (websocket, bearer token) and subscribe to the three accounts; once each holds them, a driver in this process sends 50
// intents/s and 100 market ticks/s over HTTP (keep-alive) for 20 s.
// Delivery delay: the time a client receives a decision minus the time the ledger recorded it
// (`recordedAt` of its `intent.decided` event: the database's clock at the append, which is this
// machine's clock, to the millisecond). Also printed, matched by intentId: the delay from the
// intent's send time, and from the driver's HTTP answer (negative when the clients hear of the
// decision first: the server broadcasts before it answers).
// Server event loop: /api/metrics only reports since the start, so a probe preloaded into the
// server (`--import`, the same monitorEventLoopDelay, reset at the start of the driven window)
// measures the window; both are printed. monitorEventLoopDelay records the whole sampling
// interval (an idle loop reads 10 ms): the delay reported is beyond that interval.
// This process (the clients parsing every message, and the driver) shares the machine's CPUs
// with the server and adds its own delay to what it measures: its event-loop delay is printed.
// Prints figures, and as its last line one JSON object:
// {"bench":"stream","clients":…,"delivery_p99_ms":…,"loop_p99_ms":…,…}.
// BENCH_SERVER_NODE_ARGS go to the server's node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import type { ClientToServer, ServerToClient } from "../realtime-protocol";
import { bodyOf } from "./http-client";
import type { ServerProcess } from "./support";
import { ACCOUNTS, ROOT, cleanups, fixed, quantile, runBenchmark, startServerProcess, TOKEN } from "./support";

/** The ticks' symbols and the prices they move around. */
const PRICES: Record<string, number> = { EURUSD: 1.085, GBPUSD: 1.27, USDJPY: 151.2, XAUUSD: 2_400 };
const SYMBOLS = Object.keys(PRICES);
const flag = process.argv.indexOf("--clients");
const CLIENTS = flag >= 0 ? Number(process.argv[flag + 1]) : 500;
if (!Number.isInteger(CLIENTS) || CLIENTS < 1) throw new Error("--clients takes a positive integer");
const INTENTS_PER_SEC = 50;
const TICKS_PER_SEC = 100;
const DRIVE_MS = 20_000;
/** After the drive, how long the last deliveries may take before the window closes. */
const SETTLE_MS = 2_000;
const CONNECT_WAVE = 50;
/** monitorEventLoopDelay samples every RESOLUTION_MS and records the whole interval: an idle loop reads 10 ms. */
const RESOLUTION_MS = 10;
const TARGETS = { clients: 500, deliveryP99Ms: 100, loopP99Ms: 20 };

const sortedOf = (values: number[]) => Float64Array.from(values).sort();

/** Loaded into the server with `--import`: its event-loop delay since the last SIGUSR2, printed on SIGUSR2. */
const LOOP_PROBE = `data:text/javascript,${encodeURIComponent(`
import { monitorEventLoopDelay } from "node:perf_hooks";
const loop = monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} });
loop.enable();
process.on("SIGUSR2", () => {
  const ms = (ns) => ns / 1e6;
  process.stdout.write("BENCH_LOOP " + JSON.stringify({ p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), samples: loop.count }) + "\\n");
  loop.reset();
});`)}`;

type LoopFigures = { p50: number; p99: number; max: number; samples: number };

type Server = ServerProcess & { loopReports: ((figures: LoopFigures) => void)[] };

/** The real server on a free port, with the loop probe preloaded. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const server = await startServerProcess(env, ["--import", LOOP_PROBE]);
  // The loop probe's reports, one line each, to whoever asked first.
  const loopReports: ((figures: LoopFigures) => void)[] = [];
  let partial = "";
  server.child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith("BENCH_LOOP ")) loopReports.shift()?.(JSON.parse(line.slice("BENCH_LOOP ".length)) as LoopFigures);
  });
  return { ...server, loopReports };
}

/** The server's event-loop delay since the previous call (the probe resets on each signal). */
function serverLoop(server: Server): Promise<LoopFigures> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server's loop probe did not answer")), 5_000);
    server.loopReports.push((figures) => {
      clearTimeout(timer);
      resolve(figures);
    });
    server.child.kill("SIGUSR2");
  });
}

type Answer = { status: number; body: string };

function httpClient(port: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const request = (method: string, route: string, body?: unknown): Promise<Answer> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const outgoing = http.request(
        {
          host: "127.0.0.1",
          port,
          path: route,
          method,
          agent,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          response.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(payload);
    });
  };
  return { request, close: () => agent.destroy() };
}

/** The server's own figure: riskgate_event_loop_delay_seconds{quantile="0.99"}, since its start. */
async function metricsLoopP99Ms(request: ReturnType<typeof httpClient>["request"]): Promise<number> {
  const text = (await request("GET", "/api/metrics")).body;
  return Number(/^riskgate_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)$/m.exec(text)?.[1] ?? NaN) * 1_000;
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) throw new Error("no production build: run `NEXT_TELEMETRY_DISABLED=1 npx next build` first");
  console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")}; this process (clients and driver) shares them with the server`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-bench-stream-"));
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, "engine.json");
  fs.writeFileSync(configFile, JSON.stringify({ guards: { throttle: { maxIntentsPerSecond: 1_000_000 } } }));

  const server = await startServer({ RISKGATE_DATA_DIR: path.join(dir, "data"), RISKGATE_ENGINE_CONFIG: configFile });
  cleanups.push(() => server.stop());
  const http = httpClient(server.port);
  cleanups.push(() => http.close());
  const url = `http://127.0.0.1:${server.port}`;

  // Delivery: per intent, when the driver sent it and got its answer (receipts that arrive before
  // the answer wait for it), and per receipt, the delay since the ledger recorded the decision.
  const sentAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  const early = new Map<string, number[]>();
  const sinceCommit: number[] = [];
  const sinceAnswer: number[] = [];
  const sinceSend: number[] = [];
  let messages = 0;
  let decisionsReceived = 0;
  const receive = (intentId: string, at: number, recordedAt: number) => {
    const sent = sentAt.get(intentId);
    if (sent === undefined) return; // not the driver's
    decisionsReceived++;
    sinceCommit.push(performance.timeOrigin + at - recordedAt);
    sinceSend.push(at - sent);
    const answered = answeredAt.get(intentId);
    if (answered !== undefined) sinceAnswer.push(at - answered);
    else if (early.has(intentId)) early.get(intentId)!.push(at);
    else early.set(intentId, [at]);
  };

  // Clients connect in waves; each is ready once it holds the first message of each of its subscriptions.
  const sockets: Socket<ServerToClient, ClientToServer>[] = [];
  cleanups.push(() => sockets.forEach((socket) => socket.disconnect()));
  const connectStarted = performance.now();
  for (let first = 0; first < CLIENTS; first += CONNECT_WAVE) {
    const wave = Array.from({ length: Math.min(CONNECT_WAVE, CLIENTS - first) }, () => {
      const socket: Socket<ServerToClient, ClientToServer> = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { token: TOKEN } });
      sockets.push(socket);
      const held = new Set<string>();
      let ready: () => void = () => undefined;
      socket.on("account", (message) => {
        const at = performance.now();
        messages++;
        held.add(message.accountId);
        if (held.size === ACCOUNTS.length) ready();
        for (const record of message.events) {
          if (record.event.type === "intent.decided") receive(record.event.decision.intentId, at, record.recordedAt);
        }
      });
      // Each client follows every demo account (an account page each).
      socket.on("connect", () => {
        for (const accountId of ACCOUNTS) socket.emit("subscribe", { topic: "account", accountId });
      });
      return new Promise<void>((resolve, reject) => {
        ready = resolve;
        socket.once("connect_error", (error) => reject(new Error(`a client could not connect: ${error.message}`)));
      });
    });
    await Promise.all(wave).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nserver output:\n${server.output()}`);
    });
  }
  const connectSeconds = (performance.now() - connectStarted) / 1_000;
  console.log(`${CLIENTS} clients connected and holding their accounts in ${fixed(connectSeconds, 1)} s`);

  // A first price for every symbol, then the drive: intents and ticks, each sent at its scheduled time.
  await http.request("POST", "/api/v1/market", { ticks: SYMBOLS.map((symbol) => ({ symbol, price: PRICES[symbol]! })) });
  const metricsBefore = await metricsLoopP99Ms(http.request);
  const benchLoop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  await serverLoop(server); // opens the server's window
  benchLoop.enable();
  const outcomes = new Map<string, number>();
  let failures = 0;
  let intents = 0;
  let ticks = 0;
  const driveStarted = performance.now();
  await new Promise<void>((resolve) => {
    const due = (n: number, perSec: number) => driveStarted + (n * 1_000) / perSec;
    const totalIntents = (INTENTS_PER_SEC * DRIVE_MS) / 1_000;
    const totalTicks = (TICKS_PER_SEC * DRIVE_MS) / 1_000;
    const step = () => {
      const now = performance.now();
      for (; intents < totalIntents && due(intents, INTENTS_PER_SEC) <= now; intents++) {
        const n = intents;
        const intentId = `stream-${process.pid}-${n}`;
        sentAt.set(intentId, performance.now());
        http
          .request("POST", "/api/v1/intents", {
            intentId,
            accountId: ACCOUNTS[n % ACCOUNTS.length],
            symbol: "EURUSD",
            action: n % 4 === 3 ? "CLOSE" : "OPEN",
            side: n % 2 === 0 ? "BUY" : "SELL",
            quantity: 0.01,
            provenance: { runId: "bench", strategyId: "bench-stream", regimeId: "bench" },
          })
          .then(
            (answer) => {
              const at = performance.now();
              answeredAt.set(intentId, at);
              for (const receivedAt of early.get(intentId) ?? []) sinceAnswer.push(receivedAt - at);
              early.delete(intentId);
              const decision = answer.status === 200 ? bodyOf("submitIntent", answer).decision : null;
              const key = decision ? (decision.outcome === "allowed" ? "allowed" : `denied by ${decision.guard}`) : `HTTP ${answer.status}`;
              outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
            },
            () => failures++,
          );
      }
      for (; ticks < totalTicks && due(ticks, TICKS_PER_SEC) <= now; ticks++) {
        const symbol = SYMBOLS[ticks % SYMBOLS.length]!;
        const price = PRICES[symbol]! * (1 + ((ticks % 20) - 10) / 10_000);
        http.request("POST", "/api/v1/market", { ticks: [{ symbol, price }] }).then(
          (answer) => {
            if (answer.status !== 200) failures++;
          },
          () => failures++,
        );
      }
      if (intents < totalIntents || ticks < totalTicks) setTimeout(step, Math.max(0, Math.min(due(intents, INTENTS_PER_SEC), due(ticks, TICKS_PER_SEC)) - performance.now()));
      else resolve();
    };
    step();
  });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const loop = await serverLoop(server);
  benchLoop.disable();
  const metricsAfter = await metricsLoopP99Ms(http.request);
  const drivenSeconds = (performance.now() - driveStarted) / 1_000;

  const answered = answeredAt.size;
  const expected = answered * CLIENTS;
  const delivery = sortedOf(sinceCommit);
  const fromAnswer = sortedOf(sinceAnswer);
  const fromSend = sortedOf(sinceSend);
  const excess = (ms: number) => fixed(Math.max(0, ms - RESOLUTION_MS));
  console.log(
    `driven ${DRIVE_MS / 1_000} s: ${intents} intents (${INTENTS_PER_SEC}/s) and ${ticks} ticks (${TICKS_PER_SEC}/s) over HTTP; ${failures} failed; ` +
      `intents: ${[...outcomes].sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key} ${count}`).join(", ")}`,
  );
  console.log(
    `received: ${messages} messages in ${fixed(drivenSeconds, 1)} s (${Math.round(messages / drivenSeconds / CLIENTS)}/s per client); ` +
      `${decisionsReceived} of ${expected} decisions (${answered} answered x ${CLIENTS} clients)${early.size > 0 ? `; ${early.size} received but never answered` : ""}`,
  );
  console.log(
    `delivery after the ledger recorded the decision: p50 ${fixed(quantile(delivery, 0.5))} ms, p99 ${fixed(quantile(delivery, 0.99))} ms, max ${fixed(delivery[delivery.length - 1] ?? NaN)} ms`,
  );
  console.log(
    `delivery after the driver's HTTP answer: p50 ${fixed(quantile(fromAnswer, 0.5))} ms, p99 ${fixed(quantile(fromAnswer, 0.99))} ms, max ${fixed(fromAnswer[fromAnswer.length - 1] ?? NaN)} ms, ` +
      `min ${fixed(fromAnswer[0] ?? NaN)} ms (negative: the stream was first)`,
  );
  console.log(`delivery after the send: p50 ${fixed(quantile(fromSend, 0.5))} ms, p99 ${fixed(quantile(fromSend, 0.99))} ms, max ${fixed(fromSend[fromSend.length - 1] ?? NaN)} ms`);
  console.log(
    `server event loop over the window (${loop.samples} samples every ${RESOLUTION_MS} ms, delay beyond the interval): p50 ${excess(loop.p50)} ms, p99 ${excess(loop.p99)} ms, max ${excess(loop.max)} ms ` +
      `(as recorded, interval included: p99 ${fixed(loop.p99)} ms)`,
  );
  console.log(`server /api/metrics riskgate_event_loop_delay_seconds p99 since its start (interval included): ${fixed(metricsBefore)} ms before, ${fixed(metricsAfter)} ms after`);
  console.log(
    `this process's event loop (clients + driver), beyond the interval: p50 ${excess(benchLoop.percentile(50) / 1e6)} ms, p99 ${excess(benchLoop.percentile(99) / 1e6)} ms, max ${excess(benchLoop.max / 1e6)} ms`,
  );
  const deliveryP99 = fixed(quantile(delivery, 0.99));
  const verdict = (met: boolean) => (met ? "met" : "MISSED");
  console.log(
    `targets: ${CLIENTS} clients (>= ${TARGETS.clients}: ${verdict(CLIENTS >= TARGETS.clients)}), delivery p99 ${deliveryP99} ms (<= ${TARGETS.deliveryP99Ms}: ${verdict(deliveryP99 <= TARGETS.deliveryP99Ms)}), ` +
      `loop p99 ${excess(loop.p99)} ms (<= ${TARGETS.loopP99Ms}: ${verdict(excess(loop.p99) <= TARGETS.loopP99Ms)})`,
  );
  console.log(
    JSON.stringify({
      bench: "stream",
      clients: CLIENTS,
      messages,
      decisions_received: decisionsReceived,
      decisions_expected: expected,
      delivery_p50_ms: fixed(quantile(delivery, 0.5)),
      delivery_p99_ms: deliveryP99,
      delivery_max_ms: fixed(delivery[delivery.length - 1] ?? NaN),
      delivery_since_send_p99_ms: fixed(quantile(fromSend, 0.99)),
      delivery_since_answer_p99_ms: fixed(quantile(fromAnswer, 0.99)),
      loop_p99_ms: excess(loop.p99),
      loop_p99_raw_ms: fixed(loop.p99),
      loop_max_ms: excess(loop.max),
      bench_loop_p99_ms: excess(benchLoop.percentile(99) / 1e6),
    }),
  );
}

runBenchmark(main);
