"use client";

import { createContext, use, useCallback, useEffect, useState, type ReactNode } from "react";
import { useRouter } from "next/navigation";
import type { Middleware } from "openapi-fetch";
import { api, type Me } from "@/api/client";
import { currentUser, maySignedIn } from "@/lib/session";
import type { Result } from "@/lib/result";
import { currentLocation, loginUrl } from "@/lib/navigation";
// Also for its effect: a workspace page starts loading its data with the session check.
import { forgetEarlyAnswers, takeEarlySession } from "@/lib/earlyWorkspace";
import { ErrorMessage } from "./ErrorMessage";
import { LoadingState } from "./LoadingState";

const SessionContext = createContext<Me | null>(null);

/** The signed-in user; only valid below a <SessionProvider>. */
export function useSession(): Me {
  const me = use(SessionContext);
  if (me === null) {
    throw new Error("useSession() used outside <SessionProvider>");
  }
  return me;
}

type State = { kind: "loading" } | { kind: "ready"; me: Me } | { kind: "failed"; message: string };

/**
 * Gate for the signed-in pages: asks `GET /api/auth/me`, sends a visitor
 * without a session to /login/ (remembering the page), and while mounted turns
 * any later 401 from the API into the same redirect.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const router = useRouter();
  const [state, setState] = useState<State>({ kind: "loading" });

  const toLogin = useCallback(() => router.replace(loginUrl(currentLocation())), [router]);

  // Shows who is signed in, or sends a visitor without a session to sign in.
  const settle = useCallback(
    (result: Result<{ me: Me }>) => {
      if (result.ok) {
        setState({ kind: "ready", me: result.me });
      } else if (result.status === 401) {
        // Signed out: the page's early requests were refused too; after signing in, ask again.
        forgetEarlyAnswers();
        toLogin();
      } else {
        setState({ kind: "failed", message: result.message });
      }
    },
    [toLogin],
  );

  useEffect(() => {
    const early = takeEarlySession();
    if (early === null && !maySignedIn()) {
      // Signed out for sure: to sign in, without a request that can only be refused.
      forgetEarlyAnswers();
      toLogin();
      return;
    }
    void currentUser(early ?? undefined).then(settle);
  }, [settle, toLogin]);

  function retry() {
    setState({ kind: "loading" });
    void currentUser().then(settle);
  }

  // A session can end while a page is open (expiry, sign-out in another tab).
  useEffect(() => {
    const expired: Middleware = {
      onResponse({ request, response }) {
        if (response.status === 401 && !new URL(request.url).pathname.startsWith("/api/auth/")) {
          toLogin();
        }
      },
    };
    api.use(expired);
    return () => api.eject(expired);
  }, [toLogin]);

  if (state.kind === "ready") {
    return <SessionContext value={state.me}>{children}</SessionContext>;
  }
  if (state.kind === "failed") {
    return (
      <main className="mx-auto w-full max-w-md px-4 py-16">
        <ErrorMessage message={state.message} onRetry={retry} />
      </main>
    );
  }
  return <LoadingState label="Checking your session…" className="py-24" />;
}
