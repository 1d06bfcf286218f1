import { z } from "zod";

/**
 * Branded identifiers. Each is made only by parsing at the boundary (HTTP, socket, ledger
 * read); the rest of the code receives them already branded and never casts.
 */
const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "letters, digits and . _ : - only");

export const AccountId = identifier.brand<"AccountId">();
export type AccountId = z.infer<typeof AccountId>;

export const StrategyId = identifier.brand<"StrategyId">();
export type StrategyId = z.infer<typeof StrategyId>;

export const IntentId = identifier.brand<"IntentId">();
export type IntentId = z.infer<typeof IntentId>;

export const RunId = identifier.brand<"RunId">();
export type RunId = z.infer<typeof RunId>;

export const RegimeId = identifier.brand<"RegimeId">();
export type RegimeId = z.infer<typeof RegimeId>;

export const PresetId = identifier.brand<"PresetId">();
export type PresetId = z.infer<typeof PresetId>;

/** An instrument's symbol (the spec's `Symbol`; named so it does not shadow the global). */
export const SymbolId = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[A-Z0-9][A-Z0-9._/-]*$/, "upper-case letters, digits and . _ / - only")
  .brand<"Symbol">();
export type SymbolId = z.infer<typeof SymbolId>;

/** An order of the execution path, made by the queue from an allowed decision or a flatten instruction. */
export const OrderId = identifier.brand<"OrderId">();
export type OrderId = z.infer<typeof OrderId>;
