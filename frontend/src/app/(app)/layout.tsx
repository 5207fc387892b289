import type { ReactNode } from "react";
import { AppHeader } from "@/components/AppHeader";
import { SessionProvider } from "@/components/SessionProvider";

/**
 * Shell of the signed-in pages. Static export: the HTML is prerendered without
 * a user, so the session check happens in the browser (SessionProvider).
 */
export default function AppLayout({ children }: { children: ReactNode }) {
  return (
    <SessionProvider>
      <AppHeader />
      {children}
    </SessionProvider>
  );
}
