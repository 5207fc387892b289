"use client";

import dynamic from "next/dynamic";
import { LoadingState } from "./LoadingState";
import { useSession } from "./SessionProvider";

// The view and its tables load only on this page, and only for an administrator.
const AdminView = dynamic(() => import("./AdminView").then((m) => m.AdminView), {
  ssr: false,
  loading: () => <LoadingState label="Loading the administration view…" className="py-24" />,
});

/** `/admin/`: the administration view for administrators; a sentence for anyone else. */
export function AdminPage() {
  const me = useSession();
  if (me.role !== "admin") {
    return (
      <main className="mx-auto max-w-6xl px-4 py-10">
        <p>Only an administrator may see this page.</p>
      </main>
    );
  }
  return <AdminView />;
}
