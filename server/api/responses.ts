import { z } from "zod";
import type { AccountView } from "../engine/views";
import type { BacktestDetail, BacktestListItem } from "../backtest/jobs";
import type { UserView, TokenView } from "../auth/auth";
import type { PresetSummary, PresetVersion } from "../presets";
import type { DecisionRecord, FirmView, FlattenOrder, FillDuplicate } from "../runtime";
import type { LedgerRecord } from "../ledger";
import type { OverviewPage } from "../overview-protocol";
import type { GuardStep } from "../engine/decide";
import { Memo } from "../advisory/memo";
import { Rules } from "../engine/config";
import { EngineEvent } from "../engine/events";
import { Intent, Side } from "../engine/intent";
import { Preset } from "../engine/preset";
import { AccountSpec, Actor, BreakerKind, Decision, GuardName, LossRule, ReducingCause, TradingState, VetoReason } from "../engine/types";
import { Role } from "../auth/roles";

/**
 * What the API answers, beside what it takes (`schemas.ts`): one zod schema per success body,
 * built from the engine's own schemas where they exist. The catalog names them, the OpenAPI
 * document emits them (`io: "output"`), and the contract test validates real answers against
 * that document. The checks at the end make a type the handlers return that no longer fits its
 * schema a compile error.
 */

// Times: epoch milliseconds in engine figures (`at`, `since`, `trippedAt`), ISO 8601 strings in
// records of the stores (`recordedAt`, `createdAt`) — documented here as they are.
const epochMs = z.number().describe("Epoch milliseconds");
const isoTime = z.string().describe("ISO 8601 time");

const Position = z.object({ symbol: z.string(), quantity: z.number().describe("Signed: long > 0, short < 0"), avgPrice: z.number() });

const BreakerView = z.discriminatedUnion("tripped", [
  z.object({
    kind: BreakerKind,
    resetPolicy: z.enum(["manual_only", "auto_after_cooldown", "auto_when_healthy"]),
    autoResetAt: epochMs.nullable(),
    tripped: z.literal(false),
    lastResetAt: epochMs.nullable(),
    lastResetBy: Actor.nullable(),
  }),
  z.object({
    kind: BreakerKind,
    resetPolicy: z.enum(["manual_only", "auto_after_cooldown", "auto_when_healthy"]),
    autoResetAt: epochMs.nullable(),
    tripped: z.literal(true),
    reason: z.string(),
    trippedAt: epochMs,
    trippedBy: Actor,
  }),
]);

const VetoEntry = {
  reason: VetoReason,
  note: z.string(),
  since: epochMs,
  expiresAt: epochMs.nullable().describe("null: until the next daily reset"),
  valueAtTrigger: z.number().nullable(),
  by: Actor,
};
export const VetoView = z.object({ symbol: z.string(), ...VetoEntry });
const SideLockView = z.object({ side: Side, ...VetoEntry });

const ActivePreset = z.object({ presetId: z.string(), version: z.number().int(), at: epochMs, reason: z.string(), by: Actor });
const grouped = z.object({ gross: z.number(), unpriced: z.number().int() });

/** An account as the API shows it (`server/engine/views.ts`). */
export const AccountViewSchema = AccountSpec.extend({
  preset: ActivePreset.nullable(),
  rules: Rules,
  day: z.object({ tradingDay: z.string(), resetAt: epochMs }),
  tradingState: TradingState,
  breakers: z.array(BreakerView),
  vetoes: z.array(VetoView),
  sideLocks: z.array(SideLockView),
  reducing: z.object({ cause: ReducingCause, untilReset: z.boolean(), at: epochMs, reason: z.string(), by: Actor }).nullable(),
  balance: z.number(),
  equity: z.number(),
  baseline: z.number(),
  baselineShadow: z.boolean(),
  dailyDrawdownPct: z.number(),
  dailyLossFloor: z.number(),
  maxLossFloor: z.number(),
  highWater: z.number(),
  lockedOut: z.object({ at: epochMs, equity: z.number(), floor: z.number(), rule: LossRule }).nullable(),
  positions: z.array(Position),
  exposure: z.object({
    floating: z.number(),
    bySymbol: z.array(z.object({ symbol: z.string(), gross: z.number() })),
    byCluster: z.array(grouped.extend({ cluster: z.string() })),
    bySector: z.array(grouped.extend({ sector: z.string() })),
  }),
  decisions: z.object({ allowed: z.number().int(), denied: z.number().int() }),
});

const seq = z.number().int().describe("The ledger seq the answer includes");

/** `{seq, account}`: what every operator action on one account answers. */
export const AccountChanged = z.object({ seq, account: AccountViewSchema });
export const AccountList = z.object({ seq, accounts: z.array(AccountViewSchema) });
export const BulkOpened = z.object({ seq, opened: z.number().int(), accounts: z.array(z.object({ accountId: z.string(), tradingState: TradingState })) });
export const Flattened = AccountChanged.extend({
  flattens: z.array(z.object({ seq: z.number().int(), symbol: z.string(), side: Side, quantity: z.number() })),
});

export const DecisionRecordSchema = z.object({ seq: z.number().int(), at: epochMs, intent: Intent, decision: Decision });
export const IntentAnswer = z.object({ seq, decision: Decision, memo: Memo.optional() });
export const DecisionList = z.object({ seq, decisions: z.array(DecisionRecordSchema) });
const GuardStepSchema = z.object({
  guard: GuardName,
  status: z.enum(["off", "passed", "denied", "capped", "noted", "not_reached"]),
  measures: z.array(z.object({ what: z.string(), observed: z.union([z.number(), z.string()]).nullable(), limit: z.union([z.number(), z.string()]).nullable() })),
  reason: z.string().optional(),
  note: z.string().optional(),
});
export const Explained = DecisionRecordSchema.extend({ steps: z.array(GuardStepSchema), reproduced: z.boolean(), memo: z.record(z.string(), z.unknown()).nullable() });

export const LedgerRecordSchema = z.object({ seq: z.number().int(), recordedAt: isoTime, event: EngineEvent });
export const LedgerPage = z.object({ events: z.array(LedgerRecordSchema), nextAfterSeq: z.number().int().nullable() });

export const FillsRecorded = z.object({
  seq,
  recorded: z.number().int(),
  duplicates: z.array(z.object({ index: z.number().int(), accountId: z.string(), execId: z.string(), bookedAt: epochMs.nullable() })),
});
export const MarketRecorded = z.object({ seq, recorded: z.number().int() });

export const VetoList = z.object({ seq, vetoes: z.array(VetoView) });

const FirmViewSchema = z.object({ halted: z.boolean(), halt: z.object({ reason: z.string(), at: epochMs, by: Actor }).nullable() });
export const FirmAnswer = z.object({ seq, firm: FirmViewSchema });

export const Health = z.looseObject({
  status: z.enum(["ok", "unavailable"]),
  database: z.string().optional(),
  seq: z.number().int().optional(),
  uptimeSeconds: z.number().optional(),
  reason: z.string().optional(),
}).describe("`status` for anyone; the other fields (and alert and stream statistics) for callers who may read the metrics");

// Presets
const PresetOrigin = z.enum(["file", "api"]);
const VersionLine = z.object({ version: z.number().int(), origin: PresetOrigin, note: z.string(), createdBy: z.string(), createdAt: isoTime });
export const PresetVersionSchema = z.object({ presetId: z.string(), version: z.number().int(), preset: Preset, origin: PresetOrigin, note: z.string(), createdBy: z.string(), createdAt: isoTime });
export const PresetWithVersions = PresetVersionSchema.extend({ versions: z.array(VersionLine) });
const PresetSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  firm: z.string(),
  program: z.string(),
  description: z.string(),
  initialBalanceUsd: z.number().nullable(),
  currency: z.string().nullable().describe("The currency the latest version states (its amounts and its accounts are in it); null: none"),
  latestVersion: z.number().int(),
  versions: z.array(VersionLine),
});
export const PresetList = z.object({
  presets: z.array(PresetSummarySchema.extend({ accounts: z.array(z.object({ accountId: z.string(), version: z.number().int().nullable() })) })),
});

// Overview
const OverviewRow = z.object({
  accountId: z.string(),
  name: z.string(),
  presetId: z.string().nullable(),
  tradingState: TradingState,
  currency: z.string().describe("The account's currency: the row's amounts are in it"),
  equity: z.number(),
  dayPnl: z.number(),
  dailyHeadroom: z.number(),
  dailyHeadroomPct: z.number(),
  maxHeadroom: z.number(),
  maxHeadroomPct: z.number(),
  headroomPct: z.number(),
  breakers: z.array(BreakerKind),
  lockedSymbols: z.array(z.string()),
  breachedToday: z.boolean(),
  seq: z.number().int(),
});
const ExposureLine = z.object({ key: z.string(), netUsd: z.number(), grossUsd: z.number(), accounts: z.number().int() });
export const OverviewPageSchema = z.object({
  seq,
  firm: FirmViewSchema,
  counts: z.object({
    total: z.number().int(),
    // Every state named (a record of an enum leaves its keys undefined to OpenAPI linters).
    byState: z.object({ ACTIVE: z.number().int(), REDUCING: z.number().int(), HALTED: z.number().int(), LOCKED_OUT: z.number().int() }),
    breachedToday: z.number().int(),
    withLockedSymbols: z.number().int(),
  }),
  matching: z.number().int(),
  offset: z.number().int(),
  rows: z.array(OverviewRow),
  breachedToday: z.array(OverviewRow),
  exposure: z.object({ bySymbol: z.array(ExposureLine), byCluster: z.array(ExposureLine) }),
  decisions: z.array(DecisionRecordSchema),
});

// Backtests
export const BacktestListItemSchema = z.object({
  dataset: z.string(),
  uploaded: z.boolean(),
  preset: z.string(),
  presetVersion: z.number().int(),
  strategy: z.string(),
  risk: z.enum(["on", "off"]),
  seed: z.number(),
  currency: z.string().describe("The account's currency: the balance and every amount of the run are in it"),
  initialBalanceUsd: z.number(),
  id: z.string(),
  status: z.enum(["queued", "running", "done", "failed"]),
  progress: z.object({ done: z.number(), total: z.number().nullable() }),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  by: z.string().nullable(),
  error: z.string().nullable(),
  summary: z
    .object({ returnPct: z.number(), maxDrawdownPct: z.number(), sharpe: z.number().nullable(), trades: z.number().int(), denied: z.number().int(), compliant: z.boolean().nullable() })
    .nullable(),
});
export const BacktestList = z.object({ backtests: z.array(BacktestListItemSchema) });
export const BacktestCreated = z.object({ id: z.string(), status: BacktestListItemSchema.shape.status, backtest: BacktestListItemSchema });
export const BacktestDetailAnswer = z.object({
  backtest: BacktestListItemSchema.extend({
    report: z.looseObject({}).nullable().describe("The compliance report (not yet described field by field)"),
    equity: z.array(z.looseObject({})).readonly().describe("At most 1,000 points (not yet described field by field)"),
    equityRows: z.number().int(),
  }),
});

// Users, tokens, sessions
const UserViewSchema = z.object({ id: z.string(), username: z.string(), role: Role, accounts: z.array(z.string()).nullable(), createdAt: isoTime, createdBy: z.string(), disabled: z.boolean() });
const TokenViewSchema = z.object({ id: z.string(), name: z.string(), role: Role, accounts: z.array(z.string()).nullable(), createdAt: isoTime, createdBy: z.string(), revoked: z.boolean() });
export const UserList = z.object({ users: z.array(UserViewSchema) });
export const UserAnswer = z.object({ user: UserViewSchema });
export const UserSessionsEnded = z.object({ user: UserViewSchema, endedSessions: z.number().int() });
export const SessionsEnded = z.object({ endedSessions: z.number().int() });
export const TokenList = z.object({ tokens: z.array(TokenViewSchema) });
export const TokenAnswer = z.object({ token: TokenViewSchema });
export const TokenCreated = TokenViewSchema.extend({
  token: z.string().nullable().describe("The secret, in this answer only; null when a retry with the same Idempotency-Key answers (see `detail`)"),
  detail: z.string().optional(),
});
export const LoggedIn = z.object({
  user: z.object({ name: z.string(), role: Role, accounts: z.array(z.string()).nullable() }),
  csrfToken: z.string(),
  expiresAt: isoTime,
});
export const Me = z.object({
  user: z.object({ kind: z.enum(["user", "token"]), name: z.string(), role: Role, accounts: z.array(z.string()).nullable() }),
  csrfToken: z.string().nullable().describe("Cookie sessions: send it as x-csrf-token on mutating calls; null for bearer tokens"),
});
export const PresetValidation = z.union([
  z.object({ valid: z.literal(true), issues: z.array(z.never()), preset: Preset }),
  z.object({ valid: z.literal(false), issues: z.array(z.object({ path: z.string(), message: z.string() })) }),
]);
export const EquityAnswer = z.object({ accountId: z.string(), points: z.array(z.looseObject({ at: epochMs })) });
export const OpenApiDocument = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) });
export const MetricsText = z.string().describe("Prometheus text exposition format");

// ---------------------------------------------------------------------------------------------
// Type-level checks: what the handlers build must fit the schema of its answer (a drift in a
// view type that the schema does not follow is a compile error here). Brands and readonly are
// the types' own detail, so the check is on the schema's output accepting the value.

type Fits<Value, Schema extends z.ZodType> = Value extends z.output<Schema> ? true : never;
const fits = <T extends true>(value: T) => value;
fits<Fits<AccountView, typeof AccountViewSchema>>(true);
fits<Fits<DecisionRecord, typeof DecisionRecordSchema>>(true);
fits<Fits<LedgerRecord, typeof LedgerRecordSchema>>(true);
fits<Fits<FirmView, typeof FirmViewSchema>>(true);
fits<Fits<FlattenOrder, z.ZodObject<{ seq: z.ZodNumber }>>>(true);
fits<Fits<FillDuplicate, (typeof FillsRecorded.shape.duplicates)["element"]>>(true);
fits<Fits<GuardStep, typeof GuardStepSchema>>(true);
fits<Fits<OverviewPage, typeof OverviewPageSchema>>(true);
fits<Fits<PresetVersion, typeof PresetVersionSchema>>(true);
fits<Fits<PresetSummary, typeof PresetSummarySchema>>(true);
fits<Fits<BacktestListItem, typeof BacktestListItemSchema>>(true);
fits<Fits<BacktestDetail, (typeof BacktestDetailAnswer.shape.backtest)>>(true);
fits<Fits<UserView, typeof UserViewSchema>>(true);
fits<Fits<TokenView, typeof TokenViewSchema>>(true);
