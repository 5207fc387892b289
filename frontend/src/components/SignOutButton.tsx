"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { api, errorMessage, NETWORK_ERROR } from "@/api/client";

/** Ends the session server-side (`POST /api/auth/logout` clears the cookie), then goes to /login/. */
export function SignOutButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setError(null);
    try {
      const { error: body, response } = await api.POST("/api/auth/logout");
      // 401: already signed out, which is what was asked for.
      if (response.ok || response.status === 401) {
        router.replace("/login/");
        return;
      }
      setError(errorMessage(body, response));
    } catch {
      setError(NETWORK_ERROR);
    }
    setBusy(false);
  }

  return (
    <>
      {error !== null && (
        <span role="alert" className="text-danger">
          {error}
        </span>
      )}
      <button type="button" className="btn-secondary py-1.5" onClick={() => void signOut()} disabled={busy}>
        {busy ? "Signing out…" : "Sign out"}
      </button>
    </>
  );
}
