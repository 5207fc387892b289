import type { ReactNode } from "react";
import { AppHeader } from "@/components/AppHeader";
import { SessionProvider } from "@/components/SessionProvider";
import { EARLY_REQUESTS_SCRIPT } from "@/lib/earlyRequests";

/**
 * Shell of the signed-in pages. Static export: the HTML is prerendered without
 * a user, so the session check happens in the browser (SessionProvider). On a
 * workspace page, an inline script asks for the session and the workspace's
 * data while the app's code downloads (lib/earlyRequests.ts).
 */
export default function AppLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <script dangerouslySetInnerHTML={{ __html: EARLY_REQUESTS_SCRIPT }} />
      <SessionProvider>
        <AppHeader />
        {children}
      </SessionProvider>
    </>
  );
}
