/**
 * Quantities and figures as a desk reads them: at most 4 decimals (lots, contracts, coins),
 * trailing zeros dropped, thousands grouped: 7087.67492601 → "7,087.6749", 0.1 + 0.2 → "0.3".
 * One formatter, made once.
 */
const quantityFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });

export function quantity(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : quantityFormat.format(value);
}
