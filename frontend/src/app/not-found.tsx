import Link from "next/link";
import { Logo } from "@/components/Logo";

export default function NotFound() {
  return (
    <main className="flex flex-1 flex-col items-center justify-center gap-6 px-4 py-16 text-center">
      <Logo />
      <h1 className="text-xl font-semibold">Page not found</h1>
      <p className="text-sm text-fg-muted">There is nothing at this address.</p>
      <Link href="/" className="btn-primary">
        Go to your workspaces
      </Link>
    </main>
  );
}
