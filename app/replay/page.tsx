import { ReplayPage } from "@/components/replay/ReplayPage";

export default function Page() {
  return <ReplayPage />;
}
