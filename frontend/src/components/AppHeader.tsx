"use client";

import { useSession } from "./SessionProvider";
import { Logo } from "./Logo";
import { SignOutButton } from "./SignOutButton";

/** Top bar of the signed-in pages. */
export function AppHeader() {
  const me = useSession();
  return (
    <header className="border-b border-line bg-surface">
      <div className="mx-auto flex h-14 max-w-6xl items-center justify-between gap-4 px-4">
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
