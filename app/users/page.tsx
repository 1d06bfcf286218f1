import { UsersPage } from "@/components/users/UsersPage";

export default function Page() {
  return <UsersPage />;
}
