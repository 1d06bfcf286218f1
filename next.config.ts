import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The custom server (server/main.ts) owns the process; these stay plain Node modules.
  serverExternalPackages: ["@electric-sql/pglite", "pglite-prisma-adapter", "@prisma/client", "@prisma/adapter-pg", "pg", "socket.io"],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
