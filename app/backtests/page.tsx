import { BacktestsPage } from "@/components/backtests/BacktestsPage";

export default function Page() {
  return <BacktestsPage />;
}
