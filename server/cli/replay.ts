// npm run replay -- <events.ndjson>
// Folds a recorded event stream through the engine and checks every recorded decision.
// Exit 0: all reproduced; 1: mismatches; 2: unreadable file or malformed line (named).
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { ReplayRecord } from "../engine/replay";
import { canonicalJson, replay } from "../engine/replay";
import { EventLineError, readNdjsonFile } from "../event-format";

async function main(): Promise<number> {
  const file = process.argv[2];
  if (!file || process.argv.length > 3) {
    console.error("usage: npm run replay -- <events.ndjson>");
    return 2;
  }
  if (!fs.existsSync(file)) {
    console.error(`replay: no such file: ${file}`);
    return 2;
  }
  let records: ReplayRecord[];
  try {
    records = await readNdjsonFile(file);
  } catch (error) {
    if (error instanceof EventLineError) {
      console.error(`replay: malformed line: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const result = replay(records);
  const stateHash = createHash("sha256").update(canonicalJson(result.state)).digest("hex");
  for (const mismatch of result.mismatches) {
    console.log(
      `mismatch at seq ${mismatch.seq} (intent ${mismatch.intentId}):\n  recorded   ${JSON.stringify(mismatch.recorded)}\n  recomputed ${JSON.stringify(mismatch.recomputed)}`,
    );
  }
  console.log(`events: ${result.events}`);
  console.log(`decisions: ${result.decisions}`);
  console.log(`mismatches: ${result.mismatches.length}`);
  console.log(`state sha256: ${stateHash}`);
  return result.mismatches.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("replay failed:", error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
