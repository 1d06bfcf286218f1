import path from "node:path";
import { describe, expect, it } from "vitest";
import { CsvError, MAX_CSV_COLUMNS, MAX_CSV_ROWS, parseBars, parseTime, readBarFile, symbolFromFileName } from "@/server/backtest/csv";

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

  it("reads quoted fields: commas, doubled quotes and line breaks inside, spaces around", () => {
    const data = parseBars('"date" , "A.B" ,"C_D"\r\n"2024-01-02", " 1.5 " ,2\r\n2024-01-03,"3",4\r\n', "quoted.csv");
    expect(data.symbols).toEqual(["A.B", "C_D"]);
    expect(data.rows.map((row) => row.bars.map((bar) => bar.close))).toEqual([[1.5, 2], [3, 4]]);
    // "1,5" is one cell (not the number 1.5, nor two cells), so the row has the header's 3 fields.
    expect(() => parseBars('date,AAA,BBB\n2024-01-02,"1,5",2\n', "comma.csv")).toThrow('comma.csv:2 (column AAA): "1,5" is not a positive number');
    expect(() => parseBars('date,"A""B",C\n2024-01-02,1,2\n', "quote.csv")).toThrow('quote.csv:1 (column A"B): "A\\"B" is not a symbol');
    // A quoted field may span lines; the record is named by its last line.
    expect(() => parseBars('date,AAA\n2024-01-02,"1\n2"\n', "multi.csv")).toThrow("multi.csv:3 (column AAA)");
  });

  it("names the line of malformed quoting", () => {
    expect(() => parseBars('date,AAA\n2024-01-02,1\n2024-01-03,"2\n', "open.csv")).toThrow(/^open\.csv:3: Quote Not Closed/);
    expect(() => parseBars('date,AAA\n2024-01-02,"1"x\n', "closing.csv")).toThrow(/^closing\.csv:2: Invalid Closing Quote/);
    expect(() => parseBars('date,AAA\n2024-01-02,1"x\n', "opening.csv")).toThrow(CsvError);
  });

  it("reads NA, NaN, null and empty closes as a missing bar, in any case", () => {
    const data = parseBars("date,AAA,BBB\n2024-01-02,1,NA\n2024-01-03,nan,2\n2024-01-04,NULL,\n2024-01-05,Null,na\n2024-01-08,,3\n", "missing.csv");
    expect(data.rows.map((row) => [new Date(row.closedAt).toISOString().slice(0, 10), row.bars.map((bar) => `${bar.symbol}=${bar.close}`)])).toEqual([
      ["2024-01-02", ["AAA=1"]],
      ["2024-01-03", ["BBB=2"]],
      ["2024-01-08", ["BBB=3"]],
    ]);
    // A missing time is not a time.
    expect(() => parseBars("date,AAA\nNA,1\n", "time.csv")).toThrow('time.csv:2 (column date): "NA" is not a date');
  });

  it("reads an OHLCV row of missing prices as no bar, a missing volume as 0, and refuses a row missing some prices", () => {
    const ohlcv = "Date,Open,High,Low,Close,Adj Close,Volume\n2020-01-02,1,2,0.5,1.5,1.5,NaN\n2020-01-03,null,null,null,null,null,null\n2020-01-06,1.5,2,1,1.8,1.8,100\n";
    const data = parseBars(ohlcv, "yahoo.csv", "ACME");
    expect(data.rows.map((row) => row.bars[0])).toEqual([
      { symbol: "ACME", open: 1, high: 2, low: 0.5, close: 1.5, volume: 0 },
      { symbol: "ACME", open: 1.5, high: 2, low: 1, close: 1.8, volume: 100 },
    ]);
    expect(() => parseBars("date,Open,High,Low,Close\n2020-01-02,1,2,NA,1.5\n", "partial.csv", "ACME")).toThrow('partial.csv:2 (column Low): "NA" is not a positive number');
  });

  it("skips a line whose every cell is NA, NaN, null or empty (the time too), as it skips a line of empty cells", () => {
    const closes = parseBars("date,AAA,BBB\n2024-01-02,1,2\nNA,NA,NA\nnull,,NaN\n2024-01-03,2,NA\n", "padded.csv");
    expect(closes.rows.map((row) => row.bars.length)).toEqual([2, 1]);
    const ohlcv = parseBars("date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\nNA,NA,NA,NA,NA,NA\n2020-01-03,1,2,0.5,1.5,NA\n", "padded.csv", "ACME");
    expect(ohlcv.rows).toHaveLength(2);
    // A missing time beside a value is still refused (a bar must have a time).
    expect(() => parseBars("date,AAA\n2024-01-02,1\nNA,2\n", "time.csv")).toThrow('time.csv:3 (column date): "NA" is not a date');
  });

  it("skips blank lines and lines of empty cells, and a byte-order mark, keeping the file's line numbers", () => {
    const data = parseBars("\uFEFFdate,AAA\n\n2024-01-02,1\n   \n , \n2024-01-03,2\n", "blank.csv");
    expect(data.rows).toHaveLength(2);
    expect(() => parseBars("date,AAA\n\n2024-01-02,1\n\n2024-01-03,x\n", "blank.csv")).toThrow("blank.csv:5 (column AAA)");
  });

  it("refuses a symbol named twice, at the second", () => {
    expect(() => parseBars("date,AAA,BBB,aaa\n2024-01-02,1,2,3\n", "twice.csv")).toThrow("twice.csv:1 (column aaa): symbol AAA appears twice");
    // Duplicates are found with a set: the last of MAX_CSV_COLUMNS columns repeating the first.
    const header = ["date", ...Array.from({ length: MAX_CSV_COLUMNS - 2 }, (_, n) => `S${n}`), "S0"];
    expect(() => parseBars(`${header.join(",")}\n`, "wide.csv")).toThrow(`wide.csv:1 (column S0): symbol S0 appears twice`);
  });

  it(`accepts ${MAX_CSV_COLUMNS} columns and refuses more, before reading any column's name`, () => {
    const header = (columns: number) => ["date", ...Array.from({ length: columns - 1 }, (_, n) => `S${n}`)].join(",");
    const row = (columns: number) => ["2024-01-02", ...Array.from({ length: columns - 1 }, () => "1")].join(",");
    expect(parseBars(`${header(MAX_CSV_COLUMNS)}\n${row(MAX_CSV_COLUMNS)}\n`, "ok.csv").symbols).toHaveLength(MAX_CSV_COLUMNS - 1);
    expect(() => parseBars(`${header(MAX_CSV_COLUMNS + 1)}\n${row(MAX_CSV_COLUMNS + 1)}\n`, "over.csv")).toThrow(`over.csv:1: the CSV has ${MAX_CSV_COLUMNS + 1} columns; at most ${MAX_CSV_COLUMNS} are accepted`);
    // 60,000 columns of one name (the finding's header): the limit, not a duplicate or a name.
    expect(() => parseBars(`date,${Array.from({ length: 59_999 }, () => "A A").join(",")}\n`, "wide.csv")).toThrow("wide.csv:1: the CSV has 60000 columns; at most 64 are accepted");
  });

  it("refuses more rows after the header than the limit, and stops reading there", () => {
    const limits = { maxColumns: MAX_CSV_COLUMNS, maxRows: 3 };
    const rows = ["2024-01-02,1", "2024-01-03,2", "2024-01-04,3"];
    // Blank lines are not rows: the limit itself is accepted.
    expect(parseBars(`date,AAA\n\n${rows.join("\n\n")}\n , \n`, "long.csv", undefined, limits).rows).toHaveLength(3);
    // What follows the row past the limit is never read (it would be an error of its own).
    const text = `date,AAA\n${rows.join("\n")}\n2024-01-05,4\nnot a row,"\n`;
    expect(() => parseBars(text, "long.csv", undefined, limits)).toThrow("long.csv: the CSV has more than 3 rows after the header; at most 3 are accepted");
    expect(MAX_CSV_ROWS).toBe(1_000_000);
  });
});
