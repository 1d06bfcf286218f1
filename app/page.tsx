import { Console } from "@/components/Dashboard";

export default function HomePage() {
  return <Console />;
}
