import { json, route } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = route(async (_request, { services }) => {
  const { runtime } = services;
  return json({ seq: runtime.lastSeq, accounts: runtime.accounts() });
});
