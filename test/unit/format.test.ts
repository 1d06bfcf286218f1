import { describe, expect, it } from "vitest";
import { clock, money, shortDate, when } from "@/components/format";

// Instants around the day's edges and a DST change in many time zones; the formatters are built once and reused.
const INSTANTS = [0, Date.UTC(2026, 2, 29, 0, 59, 59), Date.UTC(2026, 9, 25, 23, 0, 1), Date.UTC(2026, 11, 31, 12, 30, 5), 1_780_000_000_123];

describe("console formats", () => {
  it("clock_when_formatted_then_reads_as_toLocaleTimeString_did", () => {
    for (const ms of INSTANTS) expect(clock(ms)).toBe(new Date(ms).toLocaleTimeString([], { hour12: false }));
  });

  it("when_formatted_then_reads_as_toLocaleString_did", () => {
    for (const ms of INSTANTS) expect(when(ms)).toBe(new Date(ms).toLocaleString([], { hour12: false }));
  });

  it("shortDate_when_formatted_then_reads_as_toLocaleDateString_did", () => {
    for (const ms of INSTANTS) expect(shortDate(ms)).toBe(new Date(ms).toLocaleDateString([], { month: "short", day: "numeric" }));
  });

  it("money_when_formatted_then_whole_dollars", () => {
    expect(money(101_500.4)).toBe("$101,500");
    expect(money(-74.6)).toBe("-$75");
  });
});
