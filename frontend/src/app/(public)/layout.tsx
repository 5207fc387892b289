import type { ReactNode } from "react";
import { Logo } from "@/components/Logo";

/** Shell of the pages a visitor sees before signing in. */
export default function PublicLayout({ children }: { children: ReactNode }) {
  return (
    <main className="flex flex-1 flex-col items-center justify-center gap-8 px-4 py-12">
      <Logo />
      {children}
    </main>
  );
}
