/**
 * Number and time formats shared by the console's panels. A formatter is built once and reused:
 * building one costs far more than formatting with it, and a live page formats every chart tick
 * and table row on each update.
 */

/** One formatter per currency, made the first time it is asked for (an account's currency: USD, EUR, …). */
const moneyFormats = new Map<string, Intl.NumberFormat>();

/** An amount in `currency` (ISO 4217; an account's figures are in its currency, the firm's in USD). */
export function money(value: number, currency = "USD"): string {
  let format = moneyFormats.get(currency);
  if (!format) moneyFormats.set(currency, (format = new Intl.NumberFormat("en-US", { style: "currency", currency, maximumFractionDigits: 0 })));
  return format.format(value);
}

export function pct(value: number, digits = 2): string {
  return `${Number.isFinite(value) ? value.toFixed(digits) : "—"}%`;
}

/**
 * A date formatter in the reader's locale and time zone, built on first use (in the browser the
 * times are formatted on the client only, so it takes the browser's locale, as
 * `toLocaleString([], …)` did), then kept.
 */
function lazyFormat(options: Intl.DateTimeFormatOptions): (ms: number) => string {
  let format: Intl.DateTimeFormat | null = null;
  return (ms) => (format ??= new Intl.DateTimeFormat([], options)).format(ms);
}

// The same fields as `toLocaleTimeString([], { hour12: false })` and `toLocaleString([], { hour12: false })`.
const timeOfDay = lazyFormat({ hour: "numeric", minute: "numeric", second: "numeric", hour12: false });
const dateAndTime = lazyFormat({ year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric", hour12: false });
const monthDay = lazyFormat({ month: "short", day: "numeric" });

/** 24-hour local time of an epoch-ms instant. */
export function clock(ms: number): string {
  return timeOfDay(ms);
}

/** Local date and 24-hour time of an epoch-ms instant. */
export function when(ms: number): string {
  return dateAndTime(ms);
}

/** Local month and day of an epoch-ms instant ("Mar 4"). */
export function shortDate(ms: number): string {
  return monthDay(ms);
}
