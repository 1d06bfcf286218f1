import { describe, expect, it } from "vitest";
import { passwordBox } from "@/server/first-start";

describe("first start", () => {
  it("password_when_generated_then_printed_alone_on_a_line_inside_a_closed_box", () => {
    const lines = passwordBox("Xk3-9fQ2-pL7w-Rt5z", "http://localhost:3000").split("\n").filter(Boolean);
    expect(lines[0]).toMatch(/^╔═+╗$/);
    expect(lines.at(-1)).toMatch(/^╚═+╝$/);
    // Every line as wide as the frame, closed on both sides.
    for (const line of lines) expect(line.length).toBe(lines[0]!.length);
    for (const line of lines.slice(1, -1)) expect(line).toMatch(/^║ .* ║$/);
    // The password on a line of its own, easy to select.
    expect(lines.filter((line) => /^║\s+Xk3-9fQ2-pL7w-Rt5z\s+║$/.test(line))).toHaveLength(1);
    expect(lines.join("\n")).toContain("http://localhost:3000");
  });
});
