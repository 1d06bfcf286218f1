import { FirmOverview } from "@/components/overview/FirmOverview";

export default function OverviewPage() {
  return <FirmOverview />;
}
