import path from "node:path";
import { describe, expect, it } from "vitest";
import { CsvError, parseBars, parseTime, readBarFile, symbolFromFileName } from "@/server/backtest/csv";

const DATA = path.resolve(import.meta.dirname, "../fixtures/data");

describe("backtest CSV", () => {
  it("reads a one-symbol OHLCV file, the symbol named by the file", () => {
    const data = readBarFile(path.join(DATA, "msft-2000-2001-daily.csv"));
    expect(data.format).toBe("ohlcv");
    expect(data.symbols).toEqual(["MSFT"]);
    expect(data.rows).toHaveLength(249);
    expect(data.rows[0]).toEqual({
      closedAt: Date.parse("2000-09-27T20:00:00Z"),
      bars: [{ symbol: "MSFT", open: 63.4375, high: 63.5625, low: 59.8125, close: 60.625, volume: 53_077_800 }],
    });
    expect(data.averageDailyVolume.get(data.symbols[0]!)).toBeGreaterThan(1e7);
  });

  it("reads one close column per symbol as close-only bars", () => {
    const data = readBarFile(path.join(DATA, "eu-stock-markets-1991-1998-daily.csv"));
    expect(data.format).toBe("closes");
    expect(data.symbols).toEqual(["DAX", "SMI", "CAC", "FTSE"]);
    expect(data.rows).toHaveLength(1_860);
    expect(data.rows[0]!.bars[0]).toEqual({ symbol: "DAX", open: 1628.75, high: 1628.75, low: 1628.75, close: 1628.75, volume: 0 });
  });

  it("takes --symbol over the file name, matches headers in any case, and ignores other OHLCV columns", () => {
    const data = parseBars("Timestamp,OPEN,high,Low,close,Adj Close\n2024-03-01T14:31:00Z,10,11,9,10.5,10.4\n", "x.csv", "ACME");
    expect(data.symbols).toEqual(["ACME"]);
    expect(data.rows[0]!.bars[0]).toMatchObject({ symbol: "ACME", close: 10.5, volume: 0 });
    expect(data.rows[0]!.closedAt).toBe(Date.parse("2024-03-01T14:31:00Z"));
  });

  it("leaves a symbol without a bar on a row where its cell is empty", () => {
    const data = parseBars("date,AAA,BBB\n2024-01-02,1,2\n2024-01-03,,3\n", "two.csv");
    expect(data.rows[1]!.bars.map((bar) => bar.symbol)).toEqual(["BBB"]);
  });

  it("reads dates, date-times with or without an offset, and epoch seconds or milliseconds", () => {
    expect(parseTime("2000-09-27")).toBe(Date.parse("2000-09-27T20:00:00Z"));
    expect(parseTime("2024-03-01 14:31")).toBe(Date.parse("2024-03-01T14:31:00Z"));
    expect(parseTime("2024-03-01T14:31:05.250+02:00")).toBe(Date.parse("2024-03-01T12:31:05.250Z"));
    expect(parseTime("1709303460")).toBe(1_709_303_460_000);
    expect(parseTime("1709303460000")).toBe(1_709_303_460_000);
    expect(parseTime("2024-02-30")).toBeNull();
    expect(parseTime("03/01/2024")).toBeNull();
    // A compact date is a date, not epoch seconds in 1970; other short digit runs are refused.
    expect(parseTime("20000927")).toBe(Date.parse("2000-09-27T20:00:00Z"));
    expect(parseTime("20000231")).toBeNull();
    expect(parseTime("1234567")).toBeNull();
  });

  it("names the line and column of a bad cell", () => {
    const bad = (text: string) => () => parseBars(text, "bad.csv", "X");
    expect(bad("date,Open,High,Low,Close\n2024-01-02,1,2,0.5,1.5\n2024-01-03,1,2,0.5,abc\n")).toThrow("bad.csv:3 (column Close): \"abc\" is not a positive number");
    expect(bad("date,Open,High,Low,Close\n2024-01-02,1,2,0.5,1.5\n2024-01-02,1,2,0.5,1.5\n")).toThrow(/bad\.csv:3 \(column date\): 2024-01-02 is not after the row before/);
    expect(bad("date,Open,High,Low,Close\n02.01.2024,1,2,0.5,1.5\n")).toThrow("bad.csv:2 (column date)");
    expect(bad("date,Open,High,Low,Close\n2024-01-02,1,2,0.5\n")).toThrow("bad.csv:2: 4 fields, the header has 5");
    expect(bad("date,Open,High,Low,Close\n2024-01-02,1,0.9,0.5,1.5\n")).toThrow("bad.csv:2 (column High): high 0.9 is below the open, low or close");
    expect(bad("when,Open,High,Low,Close\n")).toThrow("bad.csv:1: no time column");
    expect(bad("date,Open,High,Close\n")).toThrow("bad.csv:1: an OHLCV file needs Open, High, Low and Close; missing low");
    expect(() => parseBars("date,DAX\n2024-01-02,1\n", "eu.csv", "DAX")).toThrow(CsvError);
  });

  it("derives a one-symbol file's symbol from its name's first word", () => {
    expect(symbolFromFileName("/data/msft-2000-2001-daily.csv")).toBe("MSFT");
    expect(() => parseBars("date,Open,High,Low,Close\n2024-01-02,1,2,0.5,1.5\n", "/data/_.csv")).toThrow("--symbol");
  });
});
