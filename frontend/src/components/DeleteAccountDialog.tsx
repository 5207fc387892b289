"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { deleteAccount } from "@/lib/account";
import { ConfirmDialog } from "./ConfirmDialog";
import { TextField } from "./TextField";

/**
 * Asks for the password, then deletes the account and everything of it
 * (`DELETE /api/auth/me`) and goes to the sign-in page. Loaded only when
 * opened (see `AccountSection`).
 */
export function DeleteAccountDialog({ onClose }: { onClose: () => void }) {
  const router = useRouter();
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirm() {
    if (password === "") {
      setError("Enter your password to confirm.");
      return;
    }
    setBusy(true);
    setError(null);
    const result = await deleteAccount(password);
    if (result.ok) {
      router.replace("/login/");
      return;
    }
    setError(result.message);
    setBusy(false);
  }

  return (
    <ConfirmDialog
      open
      title="Delete your account?"
      confirmLabel="Delete account"
      busyLabel="Deleting…"
      busy={busy}
      error={error}
      onConfirm={() => void confirm()}
      onCancel={onClose}
    >
      <p className="mb-4">
        Your workspaces, their files, runs, plots and terminals are deleted for good. This cannot be undone.
      </p>
      <TextField
        id="delete-account-password"
        name="password"
        type="password"
        label="Your password"
        autoComplete="current-password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
        maxLength={128}
      />
    </ConfirmDialog>
  );
}
