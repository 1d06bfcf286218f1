// npm run api:types [-- --check]
// Writes the console's API types (components/api-schema.d.ts) from the OpenAPI document, by
// openapi-typescript. With --check, writes nothing and exits 1 when the committed file is stale.
import fs from "node:fs";
import path from "node:path";
import { API_TYPES_FILE, apiTypes } from "../api/api-types";

const root = path.resolve(import.meta.dirname, "../..");
const file = path.join(root, API_TYPES_FILE);
const generated = await apiTypes();
if (process.argv.includes("--check")) {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
  if (committed !== generated) {
    console.error(`${API_TYPES_FILE} is not what the OpenAPI document generates: run npm run api:types`);
    process.exit(1);
  }
  console.log(`${API_TYPES_FILE} is up to date`);
} else {
  fs.writeFileSync(file, generated);
  console.log(`wrote ${API_TYPES_FILE}`);
}
