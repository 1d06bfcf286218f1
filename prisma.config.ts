import { defineConfig } from "prisma/config";

// `prisma generate` is the only Prisma CLI command this project runs; migrations are applied by
// server/db/migrate.ts, so no datasource URL is needed here.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
