import { Suspense } from "react";
import type { Metadata } from "next";
import { LoadingState } from "@/components/LoadingState";
import { ReviewPage } from "@/components/review/ReviewPages";

export const metadata: Metadata = { title: "Submissions" };

export default function Review() {
  return (
    <Suspense fallback={<LoadingState label="Loading submissions…" className="py-24" />}>
      <ReviewPage />
    </Suspense>
  );
}
