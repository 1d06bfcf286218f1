import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inputsHash, readBuildId, readStamp, whyBuild, writeStamp } from "@/server/build-stamp";

let root: string;
const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
};
const dist = () => path.join(root, ".next");
/** What `npm start` decides now. */
const decide = (env: Record<string, string | undefined> = {}) => whyBuild({ inputsHash: inputsHash(root, env), buildId: readBuildId(dist()), stamp: readStamp(dist()) });
/** A build of the inputs as they are, stamped as server/cli/build.ts does. */
const build = (buildId = "build-1", env: Record<string, string | undefined> = {}) => {
  write(".next/BUILD_ID", buildId);
  writeStamp(dist(), { inputsHash: inputsHash(root, env), buildId, builtAt: "2026-01-01T00:00:00.000Z" });
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-build-stamp-"));
  write("package.json", '{"name":"riskgate"}');
  write("package-lock.json", "{}");
  write("next.config.ts", "export default {};");
  write("tsconfig.json", JSON.stringify({ compilerOptions: { strict: true }, include: ["**/*.ts", ".next/types/**/*.ts"] }));
  write("app/page.tsx", "export default function Page() { return null; }");
  write("components/format.ts", "export const a = 1;");
  write("server/runtime.ts", "export const b = 2;");
  write("server/bench/console.ts", "// a benchmark");
  write("public/favicon.svg", "<svg/>");
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe("build stamp", () => {
  it("start_when_no_build_then_builds", () => {
    expect(decide()).toBe("no build yet");
  });

  it("start_when_inputs_unchanged_since_the_build_then_skips_it", () => {
    build();
    expect(decide()).toBeNull();
  });

  it("start_when_a_page_component_server_file_or_the_lockfile_changed_then_builds", () => {
    for (const file of ["app/page.tsx", "components/format.ts", "server/runtime.ts", "package-lock.json", "public/favicon.svg"]) {
      build();
      write(file, `${fs.readFileSync(path.join(root, file), "utf8")}\n// changed`);
      expect(decide(), file).toBe("its inputs changed since it was built");
    }
  });

  it("start_when_a_file_is_added_or_removed_then_builds", () => {
    build();
    write("components/New.tsx", "export {};");
    expect(decide()).toBe("its inputs changed since it was built");
    build();
    fs.rmSync(path.join(root, "components/New.tsx"));
    expect(decide()).toBe("its inputs changed since it was built");
  });

  it("start_when_only_a_benchmark_or_tsconfig_include_changed_then_skips_the_build", () => {
    build();
    write("server/bench/console.ts", "// a faster benchmark");
    write("tsconfig.json", JSON.stringify({ compilerOptions: { strict: true }, include: ["**/*.ts", ".next-perf/types/**/*.ts"] }));
    expect(decide()).toBeNull();
  });

  it("start_when_compiler_options_or_a_public_env_variable_changed_then_builds", () => {
    build();
    write("tsconfig.json", JSON.stringify({ compilerOptions: { strict: false }, include: [] }));
    expect(decide()).toBe("its inputs changed since it was built");
    build();
    expect(decide({ NEXT_PUBLIC_TITLE: "desk" })).toBe("its inputs changed since it was built");
  });

  it("start_when_the_build_was_replaced_by_a_hand_run_next_build_then_builds", () => {
    build("build-1");
    write(".next/BUILD_ID", "build-2");
    expect(decide()).toBe("the build was replaced since it was stamped");
  });

  it("start_when_a_build_has_no_stamp_then_builds", () => {
    write(".next/BUILD_ID", "build-1");
    expect(decide()).toBe("the build has no stamp of its inputs");
  });
});
