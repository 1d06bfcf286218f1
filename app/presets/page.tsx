import { PresetsPage } from "@/components/presets/PresetsPage";

export default function Page() {
  return <PresetsPage />;
}
