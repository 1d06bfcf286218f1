"use client";

import { useEffect, useState } from "react";

/** The time, refreshed every `intervalMs`: countdowns tick and timed locks expire on screen. */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** "4:05" or "1:02:09" until `targetMs`; "now" once it has passed. */
export function countdown(targetMs: number, nowMs: number): string {
  const totalS = Math.max(0, Math.ceil((targetMs - nowMs) / 1_000));
  if (totalS === 0) return "now";
  const h = Math.floor(totalS / 3_600);
  const m = Math.floor((totalS % 3_600) / 60);
  const s = String(totalS % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
