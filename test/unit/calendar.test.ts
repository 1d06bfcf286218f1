import { describe, expect, it } from "vitest";
import { isTimeZone, lastResetAt, nextResetAt, tradingDayOf } from "@/server/engine/calendar";

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

describe("daily reset instants", () => {
  it("resets at 00:00 UTC by default", () => {
    const rule = { time: "00:00", timeZone: "UTC" };
    expect(iso(nextResetAt(at("2026-06-10T13:00:00Z"), rule))).toBe("2026-06-11T00:00:00.000Z");
    expect(iso(lastResetAt(at("2026-06-10T13:00:00Z"), rule))).toBe("2026-06-10T00:00:00.000Z");
  });

  it("treats the reset instant itself as the start of the new day", () => {
    const rule = { time: "00:00", timeZone: "UTC" };
    expect(iso(lastResetAt(at("2026-06-11T00:00:00Z"), rule))).toBe("2026-06-11T00:00:00.000Z");
    expect(iso(nextResetAt(at("2026-06-11T00:00:00Z"), rule))).toBe("2026-06-12T00:00:00.000Z");
  });

  describe("midnight Europe/Prague (FTMO) across daylight saving", () => {
    const rule = { time: "00:00", timeZone: "Europe/Prague" };
    it("is 23:00 UTC in winter and 22:00 UTC in summer, switching on 29 March 2026", () => {
      expect(iso(nextResetAt(at("2026-03-28T12:00:00Z"), rule))).toBe("2026-03-28T23:00:00.000Z");
      expect(iso(nextResetAt(at("2026-03-28T23:30:00Z"), rule))).toBe("2026-03-29T22:00:00.000Z");
    });
    it("goes back to 23:00 UTC after 25 October 2026", () => {
      expect(iso(nextResetAt(at("2026-10-24T12:00:00Z"), rule))).toBe("2026-10-24T22:00:00.000Z");
      expect(iso(nextResetAt(at("2026-10-24T22:30:00Z"), rule))).toBe("2026-10-25T23:00:00.000Z");
    });
    it("names the trading day by the Prague date", () => {
      expect(tradingDayOf(at("2026-03-29T22:00:00Z"), rule)).toBe("2026-03-30");
    });
  });

  describe("17:00 America/Chicago (Topstep) across daylight saving", () => {
    const rule = { time: "17:00", timeZone: "America/Chicago" };
    it("is 23:00 UTC in winter and 22:00 UTC from 8 March 2026", () => {
      expect(iso(nextResetAt(at("2026-03-06T12:00:00Z"), rule))).toBe("2026-03-06T23:00:00.000Z");
      expect(iso(nextResetAt(at("2026-03-07T23:30:00Z"), rule))).toBe("2026-03-08T22:00:00.000Z");
    });
    it("is 23:00 UTC again from 1 November 2026", () => {
      expect(iso(nextResetAt(at("2026-10-31T22:30:00Z"), rule))).toBe("2026-11-01T23:00:00.000Z");
      expect(iso(lastResetAt(at("2026-11-01T22:59:59Z"), rule))).toBe("2026-10-31T22:00:00.000Z");
    });
  });

  describe("CME trade dates (Topstep: 17:00 America/Chicago, tradeDate next_weekday)", () => {
    const rule = { time: "17:00", timeZone: "America/Chicago", tradeDate: "next_weekday" } as const;
    // Week of Monday 8 June 2026 (CDT, UTC-5): 17:00 CT is 22:00 UTC.
    it("names the day that starts Sunday 17:00 CT Monday's, and Thursday's Friday's", () => {
      expect(tradingDayOf(lastResetAt(at("2026-06-07T23:00:00Z"), rule), rule)).toBe("2026-06-08");
      expect(tradingDayOf(lastResetAt(at("2026-06-08T23:00:00Z"), rule), rule)).toBe("2026-06-09");
      expect(tradingDayOf(lastResetAt(at("2026-06-11T23:00:00Z"), rule), rule)).toBe("2026-06-12");
    });
    it("has no Saturday or Sunday day: Friday's runs from Thursday 17:00 to Sunday 17:00", () => {
      expect(iso(lastResetAt(at("2026-06-13T12:00:00Z"), rule))).toBe("2026-06-11T22:00:00.000Z"); // Saturday: Thursday's reset
      expect(iso(lastResetAt(at("2026-06-14T21:59:59Z"), rule))).toBe("2026-06-11T22:00:00.000Z"); // Sunday before 17:00
      expect(iso(nextResetAt(at("2026-06-12T12:00:00Z"), rule))).toBe("2026-06-14T22:00:00.000Z"); // from Friday: Sunday 17:00
      expect(tradingDayOf(lastResetAt(at("2026-06-13T12:00:00Z"), rule), rule)).toBe("2026-06-12");
    });
  });

  it("resets at 00:00 UTC+3 (The5ers, FundedNext) as 21:00 UTC all year", () => {
    const rule = { time: "00:00", timeZone: "Etc/GMT-3" };
    expect(iso(nextResetAt(at("2026-01-15T22:00:00Z"), rule))).toBe("2026-01-16T21:00:00.000Z");
    expect(iso(nextResetAt(at("2026-07-15T20:00:00Z"), rule))).toBe("2026-07-15T21:00:00.000Z");
  });

  it("spaces consecutive resets 23, 24 or 25 hours apart, never anything else", () => {
    const rule = { time: "00:00", timeZone: "Europe/Prague" };
    const hours = new Set<number>();
    let t = at("2026-01-01T00:00:00Z");
    for (let day = 0; day < 366; day++) {
      const next = nextResetAt(t, rule);
      if (day > 0) hours.add((next - t) / 3_600_000);
      t = next;
    }
    expect([...hours].sort()).toEqual([23, 24, 25]);
  });

  it("knows which time zones exist", () => {
    expect(isTimeZone("America/Chicago")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
  });
});
