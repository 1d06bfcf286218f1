"use client";

/** Placeholder until the presets page lands (issue 6). */
export function PresetsPage() {
  return <p className="muted">Presets</p>;
}
