import { Suspense } from "react";
import type { Metadata } from "next";
import { LoadingState } from "@/components/LoadingState";
import { WorkspaceView } from "@/components/WorkspaceView";

export const metadata: Metadata = { title: "Workspace" };

// WorkspaceView reads ?id= with useSearchParams, which a static page may only
// do below a Suspense boundary: the fallback is the prerendered HTML.
export default function WorkspacePage() {
  return (
    <Suspense fallback={<LoadingState label="Opening workspace…" className="py-24" />}>
      <WorkspaceView />
    </Suspense>
  );
}
