/** Number formats shared by the console's panels. */

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });

export function money(value: number): string {
  return usd.format(value);
}

export function pct(value: number, digits = 2): string {
  return `${Number.isFinite(value) ? value.toFixed(digits) : "—"}%`;
}

/** 24-hour local time of an epoch-ms instant. */
export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** Local date and 24-hour time of an epoch-ms instant. */
export function when(ms: number): string {
  return new Date(ms).toLocaleString([], { hour12: false });
}
