/**
 * Daily reset instants in a time zone, daylight saving included. Pure: time-zone rules come
 * from the runtime's Intl data, never from a clock. Fixed offsets use IANA names: UTC+3 is
 * `Etc/GMT-3` (the sign is reversed in those names).
 */
export type ResetRule = {
  readonly time: string;
  readonly timeZone: string;
  /**
   * How a day is named: `reset_date` (default) by the local date of its reset; `next_weekday`
   * as CME names trade dates, by the next weekday: the day that starts Sunday 17:00 is
   * Monday's, and there is no reset on Friday or Saturday (Friday's day runs to Sunday's reset).
   */
  readonly tradeDate?: "reset_date" | "next_weekday";
};

/** Whether the rule resets on the local date `year-month-day`: under CME trade dates, not on Friday or Saturday. */
function resetsOn(rule: ResetRule, year: number, month: number, day: number): boolean {
  if (rule.tradeDate !== "next_weekday") return true;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return weekday !== 5 && weekday !== 6;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

type WallTime = { year: number; month: number; day: number; hour: number; minute: number; second: number };

/** The wall-clock time at `instant` (epoch ms) in `timeZone`. */
export function wallTime(instant: number, timeZone: string): WallTime {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(instant)
      .filter((part) => part.type !== "literal")
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<string, number>;
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The zone's offset from UTC at `instant`, in ms (Prague in summer: +7,200,000). */
function offsetMs(instant: number, timeZone: string): number {
  const wall = wallTime(instant, timeZone);
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return wallAsUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant at which the zone's clock shows the given local date and time. */
function instantOf(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  let guess = asUtc - offsetMs(asUtc, timeZone);
  guess = asUtc - offsetMs(guess, timeZone); // settle across a DST change
  return guess;
}

function parseTime(time: string): [number, number] {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!match) throw new Error(`reset time must be HH:MM, not ${time}`);
  return [Number(match[1]), Number(match[2])];
}

/**
 * The current reset window of each rule: every instant in [from, until) has `from` as its last
 * reset. The clock is checked before every command, and time-zone arithmetic is costly; this
 * cache is a pure function's memo (same answer, fewer computations).
 */
const windows = new Map<string, { from: number; until: number }>();

/** The latest reset instant at or before `instant`. */
export function lastResetAt(instant: number, rule: ResetRule): number {
  const key = `${rule.time}|${rule.timeZone}|${rule.tradeDate ?? "reset_date"}`;
  const window = windows.get(key);
  if (window && instant >= window.from && instant < window.until) return window.from;
  const from = computeLastResetAt(instant, rule);
  if (windows.size > 64) windows.clear();
  windows.set(key, { from, until: resetAfter(from, rule) });
  return from;
}

function computeLastResetAt(instant: number, rule: ResetRule): number {
  const [hour, minute] = parseTime(rule.time);
  const today = wallTime(instant, rule.timeZone);
  // Today's reset if it has happened (local), else the day before's; back over days without one.
  let date = new Date(Date.UTC(today.year, today.month - 1, today.day));
  if (instantOf(today.year, today.month, today.day, hour, minute, rule.timeZone) > instant) date = new Date(Date.UTC(today.year, today.month - 1, today.day - 1));
  while (!resetsOn(rule, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())) date = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - 1));
  return instantOf(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), hour, minute, rule.timeZone);
}

/** The first reset instant strictly after `instant`. */
export function nextResetAt(instant: number, rule: ResetRule): number {
  return resetAfter(lastResetAt(instant, rule), rule);
}

/** The reset following the reset instant `last`: the same local time on the next local day. */
function resetAfter(lastReset: number, rule: ResetRule): number {
  const [hour, minute] = parseTime(rule.time);
  const last = wallTime(lastReset, rule.timeZone);
  let next = new Date(Date.UTC(last.year, last.month - 1, last.day + 1));
  while (!resetsOn(rule, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate())) next = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth(), next.getUTCDate() + 1));
  return instantOf(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), hour, minute, rule.timeZone);
}

/**
 * The trading day a reset opens (YYYY-MM-DD): the local date of the reset instant, or under CME
 * trade dates the day after it (a reset is never on a Friday or Saturday there, so the day
 * after is a weekday).
 */
export function tradingDayOf(resetInstant: number, rule: ResetRule): string {
  const wall = wallTime(resetInstant, rule.timeZone);
  const date = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + (rule.tradeDate === "next_weekday" ? 1 : 0)));
  return date.toISOString().slice(0, 10);
}
