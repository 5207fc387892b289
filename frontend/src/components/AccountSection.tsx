"use client";

import { useState } from "react";
import dynamic from "next/dynamic";

// The dialog and its calls load only when asked for.
const DeleteAccountDialog = dynamic(() => import("./DeleteAccountDialog").then((m) => m.DeleteAccountDialog), {
  ssr: false,
});

/** The home page's account section: deleting the account (behind a confirmation). */
export function AccountSection() {
  const [open, setOpen] = useState(false);
  return (
    <section aria-labelledby="account-title" className="space-y-2 border-t border-line pt-6">
      <h2 id="account-title" className="text-sm font-semibold">
        Account
      </h2>
      <button type="button" className="btn-secondary" onClick={() => setOpen(true)}>
        Delete account…
      </button>
      {open && <DeleteAccountDialog onClose={() => setOpen(false)} />}
    </section>
  );
}
