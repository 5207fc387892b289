import { Suspense } from "react";
import type { Metadata } from "next";
import { LoadingState } from "@/components/LoadingState";
import { SubmissionPage } from "@/components/review/ReviewPages";

export const metadata: Metadata = { title: "Submission" };

// ?id= is read with useSearchParams, which a static page may only do below a Suspense boundary.
export default function Submission() {
  return (
    <Suspense fallback={<LoadingState label="Loading the submission…" className="py-24" />}>
      <SubmissionPage />
    </Suspense>
  );
}
