import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The custom server (server/main.ts) owns the process; these stay plain Node modules.
  serverExternalPackages: ["@prisma/client", "@prisma/adapter-pg", "pg", "socket.io"],
  poweredByHeader: false,
  // The custom server compresses everything Next serves (server/http/compress.ts), the route
  // handlers' JSON included, which Next's own compression left as it was.
  compress: false,
  // The whole project (server, tests, benchmarks) is type-checked by `npm run typecheck`, which
  // `npm test` runs as a step of its own; the build does not repeat it.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  // Where builds go (default .next): two builds at once (parallel checkouts' e2e runs) need two.
  distDir: process.env.RISKGATE_NEXT_DIST_DIR ?? ".next",
};

export default nextConfig;
