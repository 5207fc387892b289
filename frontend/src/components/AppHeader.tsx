"use client";

import { usePathname } from "next/navigation";
import { useSession } from "./SessionProvider";
import { Logo } from "./Logo";
import { SignOutButton } from "./SignOutButton";

/** Top bar of the signed-in pages (full width over the IDE, centred elsewhere). */
export function AppHeader() {
  const me = useSession();
  const wide = usePathname().startsWith("/workspace");
  return (
    <header className="border-b border-line bg-surface">
      <div className={`mx-auto flex h-14 items-center justify-between gap-4 px-4 ${wide ? "" : "max-w-6xl"}`}>
        <Logo />
        <div className="flex min-w-0 items-center gap-3 text-sm">
          <span className="min-w-0 truncate text-fg-muted">
            <span className="max-sm:sr-only">Signed in as </span>
            <span className="font-medium text-fg">{me.username}</span>
          </span>
          <SignOutButton />
        </div>
      </div>
    </header>
  );
}
