"use client";

// TEMPORARY: polls GET /api/v1/overview until `useOverview` (the stream) lands in ../useLiveStream.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { OverviewPage, OverviewQuery } from "@/server/overview-protocol";
import { request } from "../api";
import { useSession } from "../session";
import type { StreamStatus } from "../useLiveStream";
import { overviewSearch } from "./query";

export function useOverview(query: OverviewQuery): { page: OverviewPage | null; status: StreamStatus } {
  const { stream } = useSession();
  const search = overviewSearch(query);
  const page = useQuery({
    queryKey: ["overview", search],
    queryFn: () => request<OverviewPage>(`/api/v1/overview?${search}`),
    placeholderData: keepPreviousData,
    refetchInterval: 1_000,
  });
  return { page: page.data ?? null, status: stream };
}
