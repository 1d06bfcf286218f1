import fs from "node:fs";
import path from "node:path";
import type { Options as CsvOptions } from "csv-parse/sync";
import { CsvError as CsvSyntaxError, parse } from "csv-parse/sync";
import { SymbolId } from "../engine/ids";

/**
 * Historical bars from a CSV file, read by csv-parse (RFC 4180: a field in double quotes may hold
 * commas, line breaks and doubled quotes; a UTF-8 byte-order mark is skipped). Two formats, told
 * apart by the header (names are case-insensitive, surrounding spaces ignored):
 *
 * - **OHLCV, one symbol**: a time column and `Open`, `High`, `Low`, `Close`, with `Volume`
 *   optional (0 when absent); other columns (`Adj Close`) are ignored. The symbol is not in the
 *   file: `--symbol`, or the file name's first word (`msft-2000-2001-daily.csv` → `MSFT`).
 *
 *       date,Open,High,Low,Close,Volume
 *       2000-09-27,63.4375,63.5625,59.8125,60.625,53077800
 *
 * - **Closes, several symbols**: a time column and one close per symbol, named by the header
 *   (upper-cased). Each close becomes a bar with open = high = low = close and volume 0.
 *
 *       date,DAX,SMI,CAC,FTSE
 *       1991-07-01,1628.75,1678.1,1772.8,2443.6
 *
 * A missing value is an empty cell or `NA`, `NaN` or `null` (any case): a close that is missing
 * means that symbol has no bar at that time (markets with other holidays); a row whose open,
 * high, low and close are all missing has no bar (Yahoo's `null` rows); a missing volume is 0.
 * Blank lines, and lines of missing cells only (the time's too: `NA,NA,NA`), are skipped.
 *
 * The time column is the one named `date`, `time`, `timestamp` or `datetime`. Its values are an
 * ISO date (`2000-09-27`: a daily bar), an ISO date-time (`2024-03-01T14:31:00Z`,
 * `2024-03-01 14:31`, with an offset or else UTC: the bar's close time), or epoch seconds or
 * milliseconds (all digits; 11 digits or more are milliseconds). Intraday and daily files both
 * work; rows must be in strictly increasing time.
 *
 * A daily bar closes at 20:00 UTC on its date: the New York close in summer (an hour before it
 * in winter), after the European closes, and before the daily reset of every shipped preset
 * (midnight in Prague or UTC+2, 17:00 in Chicago or New York, midnight UTC), so that a date's
 * bar, and what a strategy trades on it, falls on that date's trading day under any of them.
 *
 * A file has at most MAX_CSV_COLUMNS columns and MAX_CSV_ROWS rows after the header; the header
 * is checked before any row is read, and the read stops at the first row past the limit. The
 * work is linear in the file's size.
 *
 * Any problem stops the read with a CsvError naming the file, line (the header is line 1; a
 * record whose quoted field spans lines is named by its last) and column.
 */

export type Bar = {
  readonly symbol: SymbolId;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
};

/** One line of the file: the bars that closed at `closedAt` (epoch ms). */
export type BarRow = { readonly closedAt: number; readonly bars: readonly Bar[] };

export type BarData = {
  readonly file: string;
  readonly format: "ohlcv" | "closes";
  readonly symbols: readonly SymbolId[];
  readonly rows: readonly BarRow[];
  /** Volume per UTC day on average, per symbol (0 when the file has none). */
  readonly averageDailyVolume: ReadonlyMap<SymbolId, number>;
};

export class CsvError extends Error {}

/** Columns a file may have: the time and 63 symbols, or OHLCV and what else it carries. */
export const MAX_CSV_COLUMNS = 64;
/** Rows after the header a file may have: a million one-minute bars is 2.7 years round the clock. */
export const MAX_CSV_ROWS = 1_000_000;

export type CsvLimits = { readonly maxColumns: number; readonly maxRows: number };
const CSV_LIMITS: CsvLimits = { maxColumns: MAX_CSV_COLUMNS, maxRows: MAX_CSV_ROWS };

const TIME_COLUMNS = ["date", "time", "timestamp", "datetime"];
const OHLC = ["open", "high", "low", "close"] as const;
/** Cells that mean "no value", lower-cased. */
const MISSING = new Set(["", "na", "nan", "null"]);
const isMissing = (cell: string) => cell.length <= 4 && MISSING.has(cell.toLowerCase());

/**
 * csv-parse reads every record as it is (the column count is checked here, naming the line);
 * spaces around a field and its quotes are dropped, blank records skipped.
 */
const CSV_OPTIONS = { bom: true, trim: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_empty_values: true } satisfies CsvOptions;

/** A daily bar's close: 20:00 UTC on its date (see above). */
export const DAILY_CLOSE_OFFSET_MS = 20 * 3_600_000;

export function readBarFile(file: string, symbol?: string): BarData {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new CsvError(`--data: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseBars(text, file, symbol);
}

/** The symbol a one-symbol file stands for when `--symbol` is not given: its name's first word. */
export function symbolFromFileName(file: string): string {
  return path.basename(file, path.extname(file)).split(/[^A-Za-z0-9]+/).find((word) => word.length > 0)?.toUpperCase() ?? "";
}

/** What the header says: where the time is, and which cells make which symbol's bar. */
type Layout = {
  readonly header: readonly string[];
  readonly timeIndex: number;
  readonly symbols: readonly SymbolId[];
} & ({ readonly format: "ohlcv"; readonly ohlcIndex: readonly number[]; readonly volumeIndex: number } | { readonly format: "closes"; readonly columns: readonly { readonly symbol: SymbolId; readonly index: number }[] });

type Where = (line: number, column?: string) => string;

function readHeader(header: readonly string[], line: number, where: Where, file: string, symbolOption: string | undefined, maxColumns: number): Layout {
  if (header.length > maxColumns) throw new CsvError(`${where(line)}: the CSV has ${header.length} columns; at most ${maxColumns} are accepted`);
  if (header.length < 2 || header.every((name) => name === "")) throw new CsvError(`${where(line)}: a header row is required (e.g. date,Open,High,Low,Close,Volume)`);
  const names = header.map((name) => name.toLowerCase());
  const timeColumns = names.flatMap((name, index) => (TIME_COLUMNS.includes(name) ? [index] : []));
  if (timeColumns.length !== 1) {
    throw new CsvError(`${where(line)}: ${timeColumns.length === 0 ? "no" : "more than one"} time column: name exactly one column date, time, timestamp or datetime`);
  }
  const timeIndex = timeColumns[0]!;

  const ohlcIndex = OHLC.map((name) => names.indexOf(name));
  if (ohlcIndex.some((index) => index >= 0)) {
    const missing = OHLC.filter((_, k) => ohlcIndex[k]! < 0);
    if (missing.length > 0) throw new CsvError(`${where(line)}: an OHLCV file needs Open, High, Low and Close; missing ${missing.join(", ")}`);
    const name = symbolOption ?? symbolFromFileName(file);
    const parsed = SymbolId.safeParse(name);
    if (!parsed.success) {
      const origin = symbolOption === undefined ? `the file name gives ${JSON.stringify(name)}` : `${JSON.stringify(name)}`;
      throw new CsvError(`--symbol: ${origin}, not a symbol (upper-case letters, digits and . _ / -): name it with --symbol`);
    }
    return { header, timeIndex, symbols: [parsed.data], format: "ohlcv", ohlcIndex, volumeIndex: names.indexOf("volume") };
  }
  if (symbolOption !== undefined) throw new CsvError(`--symbol: ${file} has one close column per symbol (named by its header); --symbol is for a one-symbol OHLCV file`);
  const columns: { symbol: SymbolId; index: number }[] = [];
  const seen = new Set<SymbolId>();
  for (const [index, name] of header.entries()) {
    if (index === timeIndex) continue;
    const parsed = SymbolId.safeParse(name.toUpperCase());
    if (!parsed.success) throw new CsvError(`${where(line, name || String(index + 1))}: ${JSON.stringify(name)} is not a symbol (letters, digits and . _ / -)`);
    if (seen.has(parsed.data)) throw new CsvError(`${where(line, name)}: symbol ${parsed.data} appears twice`);
    seen.add(parsed.data);
    columns.push({ symbol: parsed.data, index });
  }
  return { header, timeIndex, symbols: columns.map((column) => column.symbol), format: "closes", columns };
}

/** `limits` are MAX_CSV_COLUMNS and MAX_CSV_ROWS but in tests. */
export function parseBars(text: string, file: string, symbolOption?: string, limits: CsvLimits = CSV_LIMITS): BarData {
  const where: Where = (line, column) => `${file}:${line}${column === undefined ? "" : ` (column ${column})`}`;
  let layout: Layout | null = null;
  const rows: BarRow[] = [];
  const volumeByDay = new Map<SymbolId, Map<number, number>>();
  let previous = Number.NEGATIVE_INFINITY;

  const readRow = (layout: Layout, cells: readonly string[], line: number) => {
    const { header, timeIndex } = layout;
    if (cells.length !== header.length) throw new CsvError(`${where(line)}: ${cells.length} fields, the header has ${header.length}`);
    // A line of missing cells only (`NA,NA,NA`) is skipped, as a line of empty cells is.
    if (cells.every(isMissing)) return;
    const timeName = header[timeIndex]!;
    const closedAt = parseTime(cells[timeIndex]!);
    if (closedAt === null) throw new CsvError(`${where(line, timeName)}: ${JSON.stringify(cells[timeIndex])} is not a date (YYYY-MM-DD), an ISO date-time or epoch seconds/ms`);
    if (closedAt <= previous) {
      throw new CsvError(`${where(line, timeName)}: ${cells[timeIndex]} is not after the row before (${new Date(previous).toISOString()}): rows must be in increasing time`);
    }
    previous = closedAt;
    const number = (index: number, allowMissing: boolean, positive: boolean): number | null => {
      const cell = cells[index]!;
      if (allowMissing && isMissing(cell)) return null;
      const value = cell === "" ? Number.NaN : Number(cell);
      if (!Number.isFinite(value) || (positive ? value <= 0 : value < 0) || value > 1e12) {
        throw new CsvError(`${where(line, header[index])}: ${JSON.stringify(cell)} is not a ${positive ? "positive" : "non-negative"} number`);
      }
      return value;
    };
    const day = Math.floor(closedAt / 86_400_000);
    if (layout.format === "ohlcv") {
      const { ohlcIndex, volumeIndex } = layout;
      // A row with no open, high, low or close is a missing bar; one with some of them is an error.
      if (ohlcIndex.every((index) => isMissing(cells[index]!))) return;
      const [open, high, low, close] = ohlcIndex.map((index) => number(index, false, true)!) as [number, number, number, number];
      const volume = volumeIndex >= 0 ? number(volumeIndex, true, false) ?? 0 : 0;
      if (high < Math.max(open, close, low)) throw new CsvError(`${where(line, header[ohlcIndex[1]!])}: high ${high} is below the open, low or close`);
      if (low > Math.min(open, close)) throw new CsvError(`${where(line, header[ohlcIndex[2]!])}: low ${low} is above the open or close`);
      const symbol = layout.symbols[0]!;
      rows.push({ closedAt, bars: [{ symbol, open, high, low, close, volume }] });
      const days = volumeByDay.get(symbol)!;
      days.set(day, (days.get(day) ?? 0) + volume);
    } else {
      const bars: Bar[] = [];
      for (const { symbol, index } of layout.columns) {
        const close = number(index, true, true);
        if (close === null) continue;
        bars.push({ symbol, open: close, high: close, low: close, close, volume: 0 });
        volumeByDay.get(symbol)!.set(day, 0);
      }
      if (bars.length > 0) rows.push({ closedAt, bars });
    }
  };

  try {
    // Each record is read as it is parsed and dropped (on_record returns null): only the bars are kept.
    parse(text, {
      ...CSV_OPTIONS,
      on_record: (record: string[], { records, lines }) => {
        const cells = record.map((cell) => cell.trim());
        if (layout === null) {
          layout = readHeader(cells, lines, where, file, symbolOption, limits.maxColumns);
          for (const symbol of layout.symbols) volumeByDay.set(symbol, new Map());
        } else if (records - 1 > limits.maxRows) {
          throw new CsvError(`${file}: the CSV has more than ${limits.maxRows} rows after the header; at most ${limits.maxRows} are accepted`);
        } else {
          readRow(layout, cells, lines);
        }
        return null;
      },
    });
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new CsvError(`${where(Number(error.lines) || 1)}: ${error.message}`);
    throw error;
  }
  const found = layout as Layout | null;
  if (found === null) throw new CsvError(`${where(1)}: a header row is required (e.g. date,Open,High,Low,Close,Volume)`);
  if (rows.length === 0) throw new CsvError(`${file}: no bars after the header`);
  const averageDailyVolume = new Map(
    [...volumeByDay].map(([symbol, days]) => [symbol, days.size === 0 ? 0 : [...days.values()].reduce((sum, volume) => sum + volume, 0) / days.size]),
  );
  return { file, format: found.format, symbols: found.symbols, rows, averageDailyVolume };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Epoch ms of a cell of the time column, or null. All digits: 8 are a compact date (YYYYMMDD),
 * 9 or 10 epoch seconds, 11 to 13 epoch milliseconds; any other count is refused rather than
 * read as a time in 1970.
 */
export function parseTime(cell: string): number | null {
  if (/^\d{8}$/.test(cell)) return parseTime(`${cell.slice(0, 4)}-${cell.slice(4, 6)}-${cell.slice(6, 8)}`);
  if (/^\d{9,10}$/.test(cell)) return Number(cell) * 1_000;
  if (/^\d{11,13}$/.test(cell)) return Number(cell);
  if (/^\d+$/.test(cell)) return null;
  const date = DATE.exec(cell);
  if (date) {
    const [, y, m, d] = date.map(Number) as [number, number, number, number];
    const at = Date.UTC(y, m - 1, d);
    const check = new Date(at);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return null;
    return at + DAILY_CLOSE_OFFSET_MS;
  }
  const match = DATE_TIME.exec(cell);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return null;
  const ms = fraction ? Math.round(Number(fraction) * 1_000) : 0;
  let at = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return null;
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    at -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return at;
}
