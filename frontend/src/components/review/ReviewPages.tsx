"use client";

import { lazy, Suspense } from "react";
import { useSearchParams } from "next/navigation";
import { LoadingState } from "../LoadingState";

// The views load with React.lazy (never next/dynamic, whose loader would sit in
// shared code): their code and the Markdown renderer download only on these
// pages.
const SubmissionView = lazy(() => import("./SubmissionView").then((m) => ({ default: m.SubmissionView })));
const ReviewQueue = lazy(() => import("./ReviewQueue").then((m) => ({ default: m.ReviewQueue })));
const AssignmentsView = lazy(() => import("./AssignmentsView").then((m) => ({ default: m.AssignmentsView })));

/** `/submission/?id=`: one submission, read-only, with its results, comments and reviews. */
export function SubmissionPage() {
  const id = useSearchParams().get("id");
  if (!id) {
    return (
      <main className="mx-auto max-w-md px-4 py-16">
        <p>No submission was given. Open one from the list of submissions.</p>
      </main>
    );
  }
  return (
    <Suspense fallback={<LoadingState label="Loading the submission…" className="py-24" />}>
      <SubmissionView key={id} submissionId={id} />
    </Suspense>
  );
}

/** `/review/`: a reviewer's queue, or the caller's own submissions. */
export function ReviewPage() {
  const params = useSearchParams();
  return (
    <Suspense fallback={<LoadingState label="Loading submissions…" className="py-24" />}>
      <ReviewQueue initialAssignment={params.get("assignment") ?? ""} />
    </Suspense>
  );
}

/** `/assignments/`: the assignments the caller may see; reviewers create them here. */
export function AssignmentsPage() {
  return (
    <Suspense fallback={<LoadingState label="Loading assignments…" className="py-24" />}>
      <AssignmentsView />
    </Suspense>
  );
}
