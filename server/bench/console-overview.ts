// npm run bench:overview — the firm overview at desk scale in the system Chromium, against the
// production build (`npm run build` first; RISKGATE_NEXT_DIST_DIR picks another build folder),
// the real server (embedded PostgreSQL in a temporary directory) and a book of 10,000 accounts
// (BENCH_ACCOUNTS) opened in bulk, most of them holding a position, some with a breaker tripped
// or a symbol locked, and a market feed of ticks running while the browser is measured.
// - First rows: a cold load of the overview (a new browser context: no HTTP cache, the session
//   cookie only) until the first account row is visible, in ms since navigation start; several
//   loads, median and worst. Goal: within 2 s.
// - Input delay: over a scripted session on the live overview (typing in the filter, clicking
//   the counts, choosing states and presets, scrolling the list with the wheel and the keys),
//   each interaction's time from the input event to the next frame painted after it (the
//   event's timestamp to a requestAnimationFrame then a task), and for keys and clicks also the
//   Event Timing entries (PerformanceObserver "event"), the larger of the two. Goal: p75 <= 100 ms.
// - Window fill: after a jump of the list's scroll position, the time until the rows in view are
//   the server's (no "Loading…" row left); the most rows in the DOM at once (the virtual window).
// Prints figures, and as its last line one JSON object:
// {"bench":"overview","accounts":…,"first_rows_ms":…,"first_rows_ms_max":…,"input_delay_p75_ms":…,…}.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "@playwright/test";
import { chromium } from "@playwright/test";
import { cleanups, fixed, quantile, ROOT, runBenchmark, startServerProcess, TOKEN } from "./support";

const PASSWORD = "bench-overview-password";
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
/** Share of the accounts holding a position; every how many accounts one has a breaker tripped, a symbol locked. */
const HOLDING_SHARE = 0.7;
const TRIP_EVERY = 97;
const LOCK_EVERY = 61;
const BULK_CHUNK = 2_500;
const FILLS_PER_CALL = 1_000;
const COLD_LOADS = 5;
const WINDOW_JUMPS = 6;
/** The market while the browser is measured: one tick of every symbol this often. */
const TICK_EVERY_MS = 250;
const WARM_UP_TICKS = 20;

const PRESETS = [
  { presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 },
  { presetId: "e8-one", initialBalanceUsd: 50_000 },
  { presetId: "institutional", initialBalanceUsd: 1_000_000 },
  { presetId: "the5ers-high-stakes", initialBalanceUsd: 100_000 },
];
const SYMBOLS = [
  { symbol: "EURUSD", price: 1.085, quantity: 1 },
  { symbol: "GBPUSD", price: 1.27, quantity: 1 },
  { symbol: "XAUUSD", price: 2_350, quantity: 0.5 },
  { symbol: "US500", price: 5_000, quantity: 5 },
];

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A repeatable walk (no Math.random: the same book every run). */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

runBenchmark(async () => {
  const distDir = process.env.RISKGATE_NEXT_DIST_DIR ?? ".next";
  if (!fs.existsSync(path.join(ROOT, distDir, "BUILD_ID"))) throw new Error(`no production build in ${distDir}: run \`npm run build\` first`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-bench-overview-"));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServerProcess({ RISKGATE_DATA_DIR: dataDir, RISKGATE_DEMO: "accounts", RISKGATE_ADMIN_PASSWORD: PASSWORD });
  cleanups.push(() => server.stop());
  const base = `http://127.0.0.1:${server.port}`;
  const call = async (method: string, route: string, body?: unknown): Promise<Json> => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  };

  // The book: accounts in bulk, positions, a few breakers and locks.
  let started = performance.now();
  const ids = Array.from({ length: ACCOUNTS }, (_, n) => `desk-${String(n + 1).padStart(5, "0")}`);
  for (let from = 0; from < ids.length; from += BULK_CHUNK) {
    const accounts = ids.slice(from, from + BULK_CHUNK).map((accountId, k) => ({ accountId, name: `Desk trader ${from + k + 1}`, ...PRESETS[(from + k) % PRESETS.length]! }));
    await call("POST", "/api/v1/accounts/bulk", { accounts });
  }
  console.log(`opened ${ACCOUNTS} accounts in ${fixed((performance.now() - started) / 1000, 1)} s`);

  const random = lcg(15);
  const prices = new Map(SYMBOLS.map((s) => [s.symbol, s.price]));
  const tick = () => {
    const ticks = SYMBOLS.map(({ symbol }) => {
      const price = prices.get(symbol)! * (1 + (random() - 0.5) * 0.002);
      prices.set(symbol, price);
      return { symbol, price: Number(price.toPrecision(8)) };
    });
    return call("POST", "/api/v1/market", { ticks });
  };
  await tick();
  started = performance.now();
  const fills = ids
    .filter((_, n) => random() < HOLDING_SHARE || n % TRIP_EVERY === 0)
    .map((accountId, n) => {
      const held = SYMBOLS[n % SYMBOLS.length]!;
      const scale = PRESETS[Number(accountId.slice(5)) % PRESETS.length]!.initialBalanceUsd / 100_000;
      return { accountId, symbol: held.symbol, side: random() < 0.55 ? "BUY" : "SELL", quantity: Number((held.quantity * scale * (0.5 + random())).toFixed(2)), price: prices.get(held.symbol)!, trigger: "order" };
    });
  for (let from = 0; from < fills.length; from += FILLS_PER_CALL) await call("POST", "/api/v1/executions", { fills: fills.slice(from, from + FILLS_PER_CALL), correction: { reason: "bench: the book's positions" } });
  console.log(`${fills.length} positions in ${fixed((performance.now() - started) / 1000, 1)} s`);
  for (let n = 0; n < WARM_UP_TICKS; n++) await tick();
  let tripped = 0;
  let locked = 0;
  for (let n = 0; n < ACCOUNTS; n += TRIP_EVERY, tripped++) await call("POST", `/api/v1/accounts/${ids[n]}/breakers/manual/trip`, { reason: "bench: desk review" });
  for (let n = 1; n < ACCOUNTS; n += LOCK_EVERY, locked++) await call("POST", `/api/v1/accounts/${ids[n]}/vetoes`, { symbol: "XAUUSD", reason: "bench: news", expiresAt: null });
  const first: Json = await call("GET", "/api/v1/overview?limit=1");
  console.log(
    `server on ${base}: ${first.counts.total} accounts (${JSON.stringify(first.counts.byState)}; breached today ${first.counts.breachedToday}; ` +
      `with locked symbols ${first.counts.withLockedSymbols}; ${tripped} tripped, ${locked} locked by the bench), ${first.exposure.bySymbol.length} symbols held`,
  );

  // The market keeps moving while the browser is measured.
  let feeding = true;
  let ticksSent = 0;
  const feed = (async () => {
    while (feeding) {
      const next = performance.now() + TICK_EVERY_MS;
      await tick().catch((error: unknown) => console.error(`tick: ${(error as Error).message}`));
      ticksSent++;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
  })();
  cleanups.push(async () => {
    feeding = false;
    await feed;
  });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  cleanups.push(() => browser.close());
  const storageState = await logIn(browser, base);

  // Cold loads: a new context each time (no HTTP cache), with the session cookie only; where
  // the time goes: the session answer (/auth/me), the stream's first overview page, the first row.
  const loads: number[] = [];
  const phases: { me: number; page: number }[] = [];
  for (let n = 0; n < COLD_LOADS; n++) {
    const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const startedAt = Date.now();
    let firstPageAt = NaN;
    page.on("websocket", (socket) =>
      socket.on("framereceived", (frame) => {
        if (Number.isNaN(firstPageAt) && String(frame.payload).startsWith('42["overview",{"kind":"page"')) firstPageAt = Date.now();
      }),
    );
    await page.goto(base, { waitUntil: "commit" });
    await page.getByTestId("account-row").first().waitFor({ state: "visible", timeout: 30_000 });
    const shown = await page.evaluate(() => performance.now());
    const me = await page.evaluate(() => (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).find((entry) => entry.name.endsWith("/api/v1/auth/me"))?.responseEnd ?? NaN);
    // Node's clock and the page's differ by the navigation's start: align on the row shown.
    const navigationAt = Date.now() - shown;
    loads.push(shown);
    phases.push({ me, page: firstPageAt - Math.max(navigationAt, startedAt) });
    await context.close();
  }
  console.log(`first rows after a cold load: ${loads.map((ms) => Math.round(ms)).join(", ")} ms`);
  console.log(`  the session answered at ${phases.map((p) => Math.round(p.me)).join(", ")} ms; the first overview page arrived at about ${phases.map((p) => Math.round(p.page)).join(", ")} ms`);
  loads.sort((a, b) => a - b);

  // A scripted session on the live overview.
  const context = await browser.newContext({ storageState, viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  // tsx names functions with a `__name` helper the page does not have.
  await page.addInitScript({ content: `var __name = (fn) => fn;\n(${instrument.toString()})();` });
  await page.goto(base);
  await page.getByTestId("account-row").first().waitFor();
  const list = page.getByTestId("account-list");
  let maxRows = 0;
  const countRows = async () => (maxRows = Math.max(maxRows, await page.getByTestId("account-row").count()));
  const settle = () => page.waitForTimeout(120);

  // Typing in the filter, one key at a time, and clearing it.
  const filter = page.getByLabel("Filter");
  for (const text of ["desk trader 12", "ftmo", "00042"]) {
    await filter.click();
    for (const key of text.split("")) {
      await filter.press(key === " " ? "Space" : key);
      await settle();
    }
    await page.waitForTimeout(400);
    await filter.fill("");
    await settle();
  }
  // The counts and the menus.
  for (const name of ["HALTED", "HALTED", "breachedToday", "breachedToday", "lockedSymbols", "lockedSymbols", "REDUCING", "total"]) {
    await page.getByTestId(`count-${name}`).click();
    await page.waitForTimeout(250);
  }
  for (const state of ["ACTIVE", "HALTED", "all"]) {
    await page.getByLabel("State").selectOption(state);
    await page.waitForTimeout(250);
  }
  await page.getByLabel("Preset").selectOption("e8-one");
  await page.waitForTimeout(250);
  await page.getByLabel("Preset").selectOption("");
  await page.waitForTimeout(250);

  // Scrolling: the wheel over the list, then the keys.
  const box = (await list.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let n = 0; n < 40; n++) {
    await page.mouse.wheel(0, n % 10 === 9 ? -1_200 : 600);
    await page.waitForTimeout(80);
    if (n % 5 === 0) await countRows();
  }
  await list.focus();
  for (const key of ["PageDown", "PageDown", "PageDown", "End", "PageUp", "Home", "PageDown"]) {
    await list.press(key);
    await page.waitForTimeout(200);
    await countRows();
  }

  // Window fill: jump far, wait for the rows in view to be the server's.
  const fills_ms: number[] = [];
  for (let n = 1; n <= WINDOW_JUMPS; n++) {
    const startedAt = await list.evaluate((node, share) => {
      node.scrollTo({ top: node.scrollHeight * share });
      return performance.now();
    }, (n * 0.37) % 1);
    await page.waitForFunction(() => document.querySelectorAll(".ov-pending").length === 0 && document.querySelectorAll('[data-testid="account-row"]').length > 0, null, {
      timeout: 30_000,
      polling: "raf",
    });
    fills_ms.push((await page.evaluate(() => performance.now())) - startedAt);
    await countRows();
    await page.waitForTimeout(300);
  }
  fills_ms.sort((a, b) => a - b);

  const measured: { kind: string; ms: number }[] = await page.evaluate(() => (window as unknown as { __inputs: () => { kind: string; ms: number }[] }).__inputs());
  const delays = measured.map((entry) => entry.ms).sort((a, b) => a - b);
  const p75 = quantile(delays, 0.75);
  const byKind = (kind: string) => {
    const of = measured
      .filter((entry) => entry.kind === kind)
      .map((entry) => entry.ms)
      .sort((a, b) => a - b);
    return of.length ? `${kind} p75 ${fixed(quantile(of, 0.75), 1)} ms (${of.length})` : `${kind}: none`;
  };
  console.log(`input delay over ${delays.length} interactions: p75 ${fixed(p75, 1)} ms, p95 ${fixed(quantile(delays, 0.95), 1)} ms, worst ${fixed(delays.at(-1) ?? 0, 1)} ms`);
  console.log(`  ${["key", "click", "wheel"].map(byKind).join("; ")}`);
  console.log(`window fill after a jump: ${fills_ms.map((ms) => Math.round(ms)).join(", ")} ms; at most ${maxRows} rows in the DOM`);
  console.log(`market: ${ticksSent} ticks of ${SYMBOLS.length} symbols while measuring (one every ${TICK_EVERY_MS} ms)`);
  feeding = false;
  await feed;
  console.log(
    JSON.stringify({
      bench: "overview",
      accounts: first.counts.total,
      positions: fills.length,
      first_rows_ms: fixed(quantile(loads, 0.5), 0),
      first_rows_ms_max: fixed(loads.at(-1)!, 0),
      input_delay_p75_ms: fixed(p75, 1),
      input_delay_p95_ms: fixed(quantile(delays, 0.95), 1),
      interactions: delays.length,
      window_fill_ms_p50: fixed(quantile(fills_ms, 0.5), 0),
      max_rows_in_dom: maxRows,
      ticks_while_measuring: ticksSent,
    }),
  );
});

/**
 * In the page: each key, click and wheel input's time to the next frame painted after its
 * handlers (the event's timestamp to a requestAnimationFrame and then a task), and for keys and
 * clicks the Event Timing entry Chromium recorded for it (16 ms or more; same start time), the
 * larger of the two.
 */
function instrument() {
  const inputs: { kind: string; at: number; ms: number }[] = [];
  const timings: { at: number; ms: number }[] = [];
  const record = (kind: string) => (event: Event) => {
    const input = { kind, at: event.timeStamp, ms: 0 };
    inputs.push(input);
    requestAnimationFrame(() => setTimeout(() => (input.ms = performance.now() - event.timeStamp)));
  };
  addEventListener("keydown", record("key"), { capture: true });
  addEventListener("pointerdown", record("click"), { capture: true });
  addEventListener("wheel", record("wheel"), { capture: true, passive: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) timings.push({ at: entry.startTime, ms: entry.duration });
  }).observe({ type: "event", durationThreshold: 16, buffered: true } as PerformanceObserverInit);
  (window as unknown as { __inputs: () => { kind: string; ms: number }[] }).__inputs = () =>
    inputs.map((input) => ({
      kind: input.kind,
      ms: Math.max(input.ms, ...timings.filter((timing) => Math.abs(timing.at - input.at) < 1).map((timing) => timing.ms)),
    }));
}

/** Logs in through the form once; the session's cookies for the measured contexts. */
async function logIn(browser: Browser, base: string) {
  const context = await browser.newContext();
  const page: Page = await context.newPage();
  await page.goto(base);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("account-row").first().waitFor({ timeout: 60_000 });
  const state = await context.storageState();
  await context.close();
  return state;
}
