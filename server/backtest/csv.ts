import fs from "node:fs";
import path from "node:path";
import { SymbolId } from "../engine/ids";

/**
 * Historical bars from a CSV file. Two formats, told apart by the header (names are
 * case-insensitive, surrounding spaces and double quotes ignored, comma-separated):
 *
 * - **OHLCV, one symbol**: a time column and `Open`, `High`, `Low`, `Close`, with `Volume`
 *   optional (0 when absent); other columns (`Adj Close`) are ignored. The symbol is not in the
 *   file: `--symbol`, or the file name's first word (`msft-2000-2001-daily.csv` → `MSFT`).
 *
 *       date,Open,High,Low,Close,Volume
 *       2000-09-27,63.4375,63.5625,59.8125,60.625,53077800
 *
 * - **Closes, several symbols**: a time column and one close per symbol, named by the header
 *   (upper-cased). Each close becomes a bar with open = high = low = close and volume 0; an
 *   empty cell means that symbol has no bar at that time (markets with other holidays).
 *
 *       date,DAX,SMI,CAC,FTSE
 *       1991-07-01,1628.75,1678.1,1772.8,2443.6
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
 * Any problem stops the read with a CsvError naming the file, line (the header is line 1) and
 * column.
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

const TIME_COLUMNS = ["date", "time", "timestamp", "datetime"];
const OHLC = ["open", "high", "low", "close"] as const;

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

export function parseBars(text: string, file: string, symbolOption?: string): BarData {
  const lines = text.split(/\r?\n/);
  const where = (line: number, column?: string) => `${file}:${line}${column === undefined ? "" : ` (column ${column})`}`;
  const header = splitLine(lines[0] ?? "");
  if (header.length < 2 || header.every((name) => name === "")) throw new CsvError(`${where(1)}: a header row is required (e.g. date,Open,High,Low,Close,Volume)`);
  const names = header.map((name) => name.toLowerCase());
  const timeColumns = names.flatMap((name, index) => (TIME_COLUMNS.includes(name) ? [index] : []));
  if (timeColumns.length !== 1) {
    throw new CsvError(`${where(1)}: ${timeColumns.length === 0 ? "no" : "more than one"} time column: name exactly one column date, time, timestamp or datetime`);
  }
  const timeIndex = timeColumns[0]!;
  const timeName = header[timeIndex]!;

  const ohlcIndex = OHLC.map((name) => names.indexOf(name));
  const ohlcv = ohlcIndex.some((index) => index >= 0);
  const columns: { symbol: SymbolId; index: number }[] = [];
  let symbols: SymbolId[];
  if (ohlcv) {
    const missing = OHLC.filter((_, k) => ohlcIndex[k]! < 0);
    if (missing.length > 0) throw new CsvError(`${where(1)}: an OHLCV file needs Open, High, Low and Close; missing ${missing.join(", ")}`);
    const name = symbolOption ?? symbolFromFileName(file);
    const parsed = SymbolId.safeParse(name);
    if (!parsed.success) {
      const origin = symbolOption === undefined ? `the file name gives ${JSON.stringify(name)}` : `${JSON.stringify(name)}`;
      throw new CsvError(`--symbol: ${origin}, not a symbol (upper-case letters, digits and . _ / -): name it with --symbol`);
    }
    symbols = [parsed.data];
  } else {
    if (symbolOption !== undefined) throw new CsvError(`--symbol: ${file} has one close column per symbol (named by its header); --symbol is for a one-symbol OHLCV file`);
    for (const [index, name] of header.entries()) {
      if (index === timeIndex) continue;
      const parsed = SymbolId.safeParse(name.toUpperCase());
      if (!parsed.success) throw new CsvError(`${where(1, name || String(index + 1))}: ${JSON.stringify(name)} is not a symbol (letters, digits and . _ / -)`);
      if (columns.some((column) => column.symbol === parsed.data)) throw new CsvError(`${where(1, name)}: symbol ${parsed.data} appears twice`);
      columns.push({ symbol: parsed.data, index });
    }
    symbols = columns.map((column) => column.symbol);
  }
  const volumeIndex = names.indexOf("volume");

  const rows: BarRow[] = [];
  const volumeByDay = new Map<SymbolId, Map<number, number>>(symbols.map((symbol) => [symbol, new Map()]));
  let previous = Number.NEGATIVE_INFINITY;
  for (let n = 1; n < lines.length; n++) {
    const raw = lines[n]!;
    if (raw.trim() === "") continue;
    const line = n + 1;
    const cells = splitLine(raw);
    if (cells.length !== header.length) throw new CsvError(`${where(line)}: ${cells.length} fields, the header has ${header.length}`);
    const closedAt = parseTime(cells[timeIndex]!);
    if (closedAt === null) throw new CsvError(`${where(line, timeName)}: ${JSON.stringify(cells[timeIndex])} is not a date (YYYY-MM-DD), an ISO date-time or epoch seconds/ms`);
    if (closedAt <= previous) {
      throw new CsvError(`${where(line, timeName)}: ${cells[timeIndex]} is not after the row before (${new Date(previous).toISOString()}): rows must be in increasing time`);
    }
    previous = closedAt;
    const number = (index: number, allowEmpty: boolean, positive: boolean): number | null => {
      const cell = cells[index]!;
      if (cell === "" && allowEmpty) return null;
      const value = cell === "" ? Number.NaN : Number(cell);
      if (!Number.isFinite(value) || (positive ? value <= 0 : value < 0) || value > 1e12) {
        throw new CsvError(`${where(line, header[index])}: ${JSON.stringify(cell)} is not a ${positive ? "positive" : "non-negative"} number`);
      }
      return value;
    };
    const day = Math.floor(closedAt / 86_400_000);
    if (ohlcv) {
      const [open, high, low, close] = ohlcIndex.map((index) => number(index, false, true)!) as [number, number, number, number];
      const volume = volumeIndex >= 0 ? number(volumeIndex, true, false) ?? 0 : 0;
      if (high < Math.max(open, close, low)) throw new CsvError(`${where(line, header[ohlcIndex[1]!])}: high ${high} is below the open, low or close`);
      if (low > Math.min(open, close)) throw new CsvError(`${where(line, header[ohlcIndex[2]!])}: low ${low} is above the open or close`);
      const symbol = symbols[0]!;
      rows.push({ closedAt, bars: [{ symbol, open, high, low, close, volume }] });
      const days = volumeByDay.get(symbol)!;
      days.set(day, (days.get(day) ?? 0) + volume);
    } else {
      const bars: Bar[] = [];
      for (const { symbol, index } of columns) {
        const close = number(index, true, true);
        if (close === null) continue;
        bars.push({ symbol, open: close, high: close, low: close, close, volume: 0 });
        volumeByDay.get(symbol)!.set(day, 0);
      }
      if (bars.length > 0) rows.push({ closedAt, bars });
    }
  }
  if (rows.length === 0) throw new CsvError(`${file}: no bars after the header`);
  const averageDailyVolume = new Map(
    [...volumeByDay].map(([symbol, days]) => [symbol, days.size === 0 ? 0 : [...days.values()].reduce((sum, volume) => sum + volume, 0) / days.size]),
  );
  return { file, format: ohlcv ? "ohlcv" : "closes", symbols, rows, averageDailyVolume };
}

function splitLine(line: string): string[] {
  return line.split(",").map((cell) => cell.trim().replace(/^"(.*)"$/, "$1").trim());
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
