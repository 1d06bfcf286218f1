import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The engine is the functional core: it must not import I/O, storage, the web framework or the
 * socket server, nor read the clock or randomness. This reads its sources and says where.
 */
const engineDir = path.resolve(import.meta.dirname, "../../server/engine");

const forbidden: [RegExp, string][] = [
  [/from\s+["'](node:)?(fs|net|http|https|child_process|worker_threads|os|dgram|dns|tls|crypto)(\/[^"']*)?["']/, "Node I/O"],
  [/from\s+["'](@prisma\/[^"']*|pg)["']/, "the database"],
  [/from\s+["'](next|next\/[^"']*|react|react-dom)["']/, "the web framework"],
  [/from\s+["']socket\.io(-client)?["']/, "Socket.IO"],
  [/from\s+["']\.\.\//, "the shell (imports from outside server/engine)"],
  [/\bDate\.now\s*\(/, "the clock"],
  [/\bnew\s+Date\s*\(\s*\)/, "the clock"],
  [/\bperformance\.now\s*\(/, "the clock"],
  [/\bMath\.random\s*\(/, "randomness"],
  [/\bprocess\.(env|hrtime)/, "the process environment"],
];

function sources(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? sources(path.join(dir, entry.name)) : entry.name.endsWith(".ts") ? [path.join(dir, entry.name)] : [],
    );
}

describe("the engine is pure", () => {
  const files = sources(engineDir);

  it("has sources to check", () => {
    expect(files.length).toBeGreaterThan(3);
  });

  it("imports no I/O, database, framework or socket module and reads no clock or randomness", () => {
    const violations = files.flatMap((file) => {
      const text = fs.readFileSync(file, "utf8");
      return forbidden.filter(([pattern]) => pattern.test(text)).map(([, what]) => `${path.basename(file)} uses ${what}`);
    });
    expect(violations).toEqual([]);
  });

  it("would notice a violation", () => {
    const sample = 'import fs from "node:fs";\nconst t = Date.now();';
    expect(forbidden.filter(([pattern]) => pattern.test(sample)).map(([, what]) => what)).toEqual(["Node I/O", "the clock"]);
  });
});
