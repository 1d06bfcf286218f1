import { PasswordPage } from "@/components/users/PasswordPage";

export default function Page() {
  return <PasswordPage />;
}
