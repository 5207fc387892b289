"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { signOut as endSession } from "@/lib/session";

/** Ends the session server-side (`POST /api/auth/logout` clears the cookie), then goes to /login/. */
export function SignOutButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setBusy(true);
    setError(null);
    const result = await endSession();
    if (result.ok) {
      router.replace("/login/");
      return;
    }
    setError(result.message);
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
