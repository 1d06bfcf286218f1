import type { SymbolId } from "./ids";
import type { Side } from "./intent";

/**
 * Money math in one place: positions from fills (average price, realized P/L), balance, and
 * equity marked to the last prices. Pure. Amounts in the account's currency; quantities in instrument units;
 * prices in the instrument's quote currency, converted by `perUnit` (units of the account's currency per unit of quote currency; 1 when they are the same).
 */
export type Position = {
  /** Signed: long > 0, short < 0. */
  readonly quantity: number;
  readonly avgPrice: number;
};

export type Fill = { readonly symbol: SymbolId; readonly side: Side; readonly quantity: number; readonly price: number; readonly feeUsd: number };

/** Quantities closer to zero than this are flat (floating-point residue of partial closes). */
const FLAT = 1e-9;

/** Applies a fill to a position; returns the new position (null when flat) and the P/L it realized. */
export function applyFill(
  position: Position | undefined,
  fill: Fill,
  contractSize: number,
  perUnit = 1,
): { position: Position | null; realized: number } {
  const signed = fill.side === "BUY" ? fill.quantity : -fill.quantity;
  const held = position?.quantity ?? 0;
  const avg = position?.avgPrice ?? fill.price;
  if (held === 0 || Math.sign(held) === Math.sign(signed)) {
    const quantity = held + signed;
    return { position: { quantity, avgPrice: (held * avg + signed * fill.price) / quantity }, realized: 0 };
  }
  // Reducing, closing or reversing: P/L is realized on the closed part at the average price.
  const closed = Math.min(Math.abs(signed), Math.abs(held));
  const realized = (fill.price - avg) * closed * Math.sign(held) * contractSize * perUnit;
  const remaining = held + signed;
  if (Math.abs(remaining) < FLAT) return { position: null, realized };
  const reversed = Math.sign(remaining) !== Math.sign(held);
  return { position: { quantity: remaining, avgPrice: reversed ? fill.price : avg }, realized };
}

/**
 * Floating P/L of a position marked at `mark`, in the account's currency at `perUnit` per unit of its quote currency (a
 * position with no price, or no rate to convert it, is marked at cost: 0).
 */
export function floatingPnl(position: Position, mark: number | null, contractSize: number, perUnit: number | null = 1): number {
  if (perUnit === null) return 0;
  return ((mark ?? position.avgPrice) - position.avgPrice) * position.quantity * contractSize * perUnit;
}
