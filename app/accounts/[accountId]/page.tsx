import { AccountPage } from "@/components/account/AccountPage";

export default async function Page({ params }: { params: Promise<{ accountId: string }> }) {
  const { accountId } = await params;
  return <AccountPage accountId={decodeURIComponent(accountId)} />;
}
