import { z } from "zod";
import { InstrumentsFile } from "../engine/config";
import { ExecId } from "../engine/events";
import { AccountId, IntentId, PresetId, SymbolId } from "../engine/ids";
import { Preset } from "../engine/preset";
import { Side } from "../engine/intent";
import { AccountRequest, BreakerKind, CurrencyCode, FillTrigger, OperatorReason } from "../engine/types";
import { AccountScope, Role } from "../auth/roles";

/** Request shapes of the HTTP API, shared by the route handlers and the browser. */
export const AccountParams = z.strictObject({ accountId: AccountId });

export const BreakerParams = z.strictObject({ accountId: AccountId, breaker: BreakerKind });

/** The body of an operator action that needs only a reason: breaker trip/reset, symbol unlock. */
export const ReasonBody = z.strictObject({ reason: OperatorReason });
export type ReasonBody = z.infer<typeof ReasonBody>;

export const DecisionsQuery = z.strictObject({
  accountId: AccountId.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const LedgerQuery = z.strictObject({
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  accountId: AccountId.optional(),
});

export const LoginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

const Username = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, "2 to 64 of a-z, 0-9, dot, underscore, hyphen; starting with a letter or digit");

/** A principal's scope: strategies must name their accounts; admins see everything. */
const scoped = <T extends { role: Role; accounts: string[] | null }>(body: T, context: z.RefinementCtx) => {
  if (body.role === "strategy" && body.accounts === null) context.addIssue({ code: "custom", path: ["accounts"], message: "a strategy must be scoped to its accounts" });
  if (body.role === "admin" && body.accounts !== null) context.addIssue({ code: "custom", path: ["accounts"], message: "an admin cannot be scoped to accounts" });
  if ((body.role === "feed" || body.role === "metrics") && body.accounts !== null) {
    context.addIssue({ code: "custom", path: ["accounts"], message: `a ${body.role} credential serves the whole firm and cannot be scoped to accounts` });
  }
};

/** A password a user is given or chooses: the same rules at creation, reset and change. */
const NewPassword = z.string().min(12, "at least 12 characters").max(256);

export const NewUserBody = z
  .strictObject({
    username: Username,
    password: NewPassword,
    role: Role,
    accounts: AccountScope.default(null),
  })
  .superRefine(scoped);

export const NewTokenBody = z
  .strictObject({ name: z.string().trim().min(1).max(120), role: Role, accounts: AccountScope.default(null) })
  .superRefine(scoped);

export const TokenParams = z.strictObject({ tokenId: z.uuid() });

export const UserParams = z.strictObject({ userId: z.uuid() });

/** An admin sets another user's password. */
export const ResetPasswordBody = z.strictObject({ password: NewPassword });

/** A user changes their own password, proving the current one. */
export const ChangePasswordBody = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: NewPassword });

/**
 * An instant a request names: epoch milliseconds (UTC), the API's one time format; an ISO 8601
 * string with an offset is still taken (what the API asked for before issue 19). Parsed to epoch ms.
 */
const EPOCH_MS_MAX = 8_640_000_000_000_000;
const IsoInstant = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text));
export const Instant = z.union([z.number().int().min(0).max(EPOCH_MS_MAX).describe("Epoch milliseconds (UTC)"), IsoInstant.describe("ISO 8601 (still taken; answers use epoch milliseconds)")]);
/** The same in a query string: digits are epoch milliseconds. */
const QueryInstant = z.union([
  z.string().regex(/^\d{1,16}$/, "epoch milliseconds or an ISO 8601 time").transform(Number).pipe(z.number().max(EPOCH_MS_MAX)).describe("Epoch milliseconds (UTC)"),
  IsoInstant.describe("ISO 8601 (still taken)"),
]);

export const EquityQuery = z.strictObject({
  /** Instants bounding the series (epoch ms); default: everything kept. */
  from: QueryInstant.optional(),
  to: QueryInstant.optional(),
  /** Points to return (LTTB-downsampled on equity); about one per pixel of the chart. */
  points: z.coerce.number().int().min(2).max(5000).default(1000),
});

/** Bounds on every price, size and amount the API takes: products of them stay finite. */
const Price = z.number().positive().max(1e9);
const Size = z.number().nonnegative().max(1e12);
const level = z.strictObject({ price: Price, size: Size });

/** Market data pushed by a feed: last prices and L2 books (best level first). */
export const MarketBody = z
  .strictObject({
    ticks: z.array(z.strictObject({ symbol: SymbolId, price: Price })).max(1000).default([]),
    books: z
      .array(
        z
          .strictObject({ symbol: SymbolId, bids: z.array(level).max(50), asks: z.array(level).max(50) })
          .refine((book) => book.bids.every((l, i, all) => i === 0 || l.price < all[i - 1]!.price), {
            message: "bids must be in strictly descending price order",
            path: ["bids"],
          })
          .refine((book) => book.asks.every((l, i, all) => i === 0 || l.price > all[i - 1]!.price), {
            message: "asks must be in strictly ascending price order",
            path: ["asks"],
          }),
      )
      .max(200)
      .default([]),
  })
  .extend({
    bars: z
      .array(
        z
          .strictObject({
            symbol: SymbolId,
            /** When the bar closed (epoch ms); bars of one symbol in time order. */
            closedAt: Instant,
            open: Price,
            high: Price,
            low: Price,
            close: Price,
            volume: Size,
          })
          .refine((bar) => bar.high >= Math.max(bar.open, bar.close, bar.low), { message: "high must be the bar's highest price", path: ["high"] })
          .refine((bar) => bar.low <= Math.min(bar.open, bar.close), { message: "low must be the bar's lowest price", path: ["low"] }),
      )
      .max(5_000)
      .default([]),
  })
  .refine((body) => body.ticks.length + body.books.length + body.bars.length > 0, {
    message: "send at least one tick, book or bar",
    path: ["ticks"],
  });

export const LockBody = z.strictObject({
  symbol: SymbolId,
  reason: OperatorReason,
  /** When the lock ends (epoch ms); omitted or null: until the next daily reset. */
  expiresAt: Instant.nullable().default(null),
});

export const VetoParams = z.strictObject({ accountId: AccountId, symbol: SymbolId });

export const SideLockParams = z.strictObject({ accountId: AccountId, side: Side });

export const LedgerExportQuery = z.strictObject({ accountId: AccountId.optional() });

/** A page of an account's closed trades, newest first: at most `limit`, closed before `beforeSeq`. */
export const TradesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The `nextBeforeSeq` of the page before; omitted: the latest. */
  beforeSeq: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});

export const Empty = z.strictObject({});

/** Execution reports from a venue outside Riskgate: fills, applied in order, all or none. */
export const ExecutionsBody = z.strictObject({
  fills: z
    .array(
      z.strictObject({
        accountId: AccountId,
        intentId: IntentId.nullable().default(null),
        symbol: SymbolId,
        side: Side,
        quantity: z.number().positive().max(1e9),
        price: Price,
        feeUsd: z.number().nonnegative().max(1e9).default(0),
        trigger: FillTrigger.default("order"),
        /** The venue's execution id (FIX ExecID), unique per account: a repeat is answered, not booked again. */
        execId: ExecId.optional(),
      }),
    )
    .min(1)
    .max(1000),
  /**
   * An admin's correction: the fills are booked as they are, without the allowed intent they
   * fill (a missed report, a manual trade at the broker), recorded with this reason.
   */
  correction: z.strictObject({ reason: OperatorReason }).optional(),
});

export const PresetParams = z.strictObject({ presetId: PresetId });

export const PresetVersionParams = z.strictObject({ presetId: PresetId, version: z.coerce.number().int().positive().max(1_000_000) });

/** A new preset, or a new version of one, with a note saying what changed and why. */
export const PresetBody = z.strictObject({ preset: Preset, note: OperatorReason });

/** Any JSON value: the validate endpoint answers every issue instead of refusing the call. */
export const AnyPreset = z.unknown();

export const ActivatePresetBody = z.strictObject({
  presetId: PresetId,
  /** Omitted: the latest version. */
  version: z.number().int().positive().max(1_000_000).optional(),
  reason: OperatorReason,
});

export const DryRunBody = z
  .strictObject({
    /** An edited preset, not saved yet; or name a stored one with `presetId` (and `version`). */
    preset: Preset.optional(),
    presetId: PresetId.optional(),
    version: z.number().int().positive().max(1_000_000).optional(),
    /** How many of the account's latest decisions to decide again. */
    decisions: z.number().int().min(1).max(5_000).default(500),
  })
  .refine((body) => (body.preset === undefined) !== (body.presetId === undefined), {
    message: "send either an edited preset or a presetId",
    path: ["preset"],
  })
  .refine((body) => body.version === undefined || body.presetId !== undefined, { message: "a version needs its presetId", path: ["version"] });

export const DecisionParams = z.strictObject({ seq: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** The decision's account: callers scoped to accounts name it, as for the other account reads. */
export const ExplainQuery = z.strictObject({ accountId: AccountId.optional() });

/** The bar files that ship with Riskgate (test/fixtures/data/<name>.csv), by name. */
export const BACKTEST_DATASETS = ["msft-2000-2001-daily", "eu-stock-markets-1991-1998-daily"] as const;
/** The built-in backtest strategies (server/backtest/strategies.ts); the web never names a module. */
export const BACKTEST_STRATEGIES = ["buy-and-hold", "sma-crossover", "mean-reversion", "reckless"] as const;
/**
 * An uploaded CSV's text at most (the API's body limit, 2 MiB, comes first). Its columns and rows
 * are bounded by the parser (server/backtest/csv.ts), in a worker thread.
 */
export const MAX_BACKTEST_CSV_CHARS = 5_000_000;

/**
 * A backtest to run: a shipped data set or an uploaded CSV's text, a preset (shipped or saved),
 * a built-in strategy, risk on or off, the seed, and the balance (the preset's account size by default).
 */
export const BacktestBody = z
  .strictObject({
    dataset: z.enum(BACKTEST_DATASETS).optional(),
    csv: z.string().min(1).max(MAX_BACKTEST_CSV_CHARS).optional(),
    /** The uploaded file's name: its first word names the symbol of a one-symbol OHLCV file. */
    csvName: z.string().trim().min(1).max(200).optional(),
    /** The symbol of a one-symbol OHLCV upload (default: the file name's first word). */
    symbol: SymbolId.optional(),
    preset: PresetId,
    strategy: z.enum(BACKTEST_STRATEGIES),
    risk: z.enum(["on", "off"]).default("on"),
    seed: z.number().int().min(0).max(4_294_967_295).default(1),
    balance: z.number().positive().max(1e12).optional(),
    /** The account's currency (ISO 4217; default: the preset's, else USD): the balance and every amount of the run are in it. */
    currency: CurrencyCode.optional(),
    /** Instruments by symbol, over the server's (RISKGATE_ENGINE_CONFIG's, else the built-in) ones: an instruments file's content. */
    instruments: InstrumentsFile.optional(),
  })
  .refine((body) => (body.dataset === undefined) !== (body.csv === undefined), { message: "send either a dataset or a csv", path: ["dataset"] })
  .refine((body) => body.csv !== undefined || (body.csvName === undefined && body.symbol === undefined), {
    message: "csvName and symbol are for an uploaded csv",
    path: ["csvName"],
  });
export type BacktestBody = z.infer<typeof BacktestBody>;

export const BacktestParams = z.strictObject({ backtestId: z.uuid() });

/** Accounts one bulk open may carry (the body limit, 2 MiB, about 200 bytes an account at 10,000). */
export const MAX_BULK_ACCOUNTS = 10_000;

/** The account schema as the OpenAPI document shows it, for the bulk body's items. */
const { $schema: _accountSchemaDialect, ...accountItemSchema } = z.toJSONSchema(AccountRequest, { target: "draft-2020-12", io: "input" });

/**
 * Accounts to open at once, all or none (`POST /api/v1/accounts/bulk`). Each item is an
 * `AccountRequest`, checked one by one by `parseBulkAccounts` (so that thousands of bad items cost
 * one issue list, capped, not thousands of zod issues); the document shows the item schema.
 */
export const BulkOpenBody = z.strictObject({
  accounts: z.array(z.unknown()).min(1).max(MAX_BULK_ACCOUNTS).meta({ items: accountItemSchema }),
});

/** The bulk body's items as accounts, or every issue, each named by its item (`accounts.17.accountId`). */
export function parseBulkAccounts(items: readonly unknown[]): { accounts: AccountRequest[]; issues: { path: string; message: string }[] } {
  const accounts: AccountRequest[] = [];
  const issues: { path: string; message: string }[] = [];
  items.forEach((item, index) => {
    const parsed = AccountRequest.safeParse(item);
    if (parsed.success) accounts.push(parsed.data);
    else for (const issue of parsed.error.issues) issues.push({ path: ["accounts", index, ...issue.path].map(String).join("."), message: issue.message });
  });
  return { accounts, issues };
}
