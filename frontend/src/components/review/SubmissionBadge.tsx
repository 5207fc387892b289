"use client";

import { use } from "react";
import Link from "next/link";
import { STATE_TEXT, ofWorkspace } from "@/lib/review";
import { listSubmissions, submissionUrl, type SubmissionSummary } from "@/lib/submissions";

// One request for every row of the list; asked again when the list is shown again later.
let asked: { at: number; answer: Promise<SubmissionSummary[]> } | null = null;
const FRESH_MS = 5000;

function mySubmissions(): Promise<SubmissionSummary[]> {
  if (asked === null || Date.now() - asked.at > FRESH_MS) {
    asked = { at: Date.now(), answer: listSubmissions({ scope: "own" }).then((result) => (result.ok ? result.submissions : [])) };
  }
  return asked.answer;
}

/**
 * A workspace row's line about its latest submission: version, status and
 * unread comments, linking to the submission. Nothing for a workspace never
 * submitted (or when the list cannot be had: the row works without it).
 */
export default function SubmissionBadge({ workspaceId }: { workspaceId: string }) {
  const latest = ofWorkspace(use(mySubmissions()), workspaceId)[0];
  if (latest === undefined) {
    return null;
  }
  const unread = latest.unread;
  return (
    <Link href={submissionUrl(latest.id)} className="text-xs text-fg-muted hover:text-fg hover:underline" data-testid="submission-badge">
      Version {latest.version}: {STATE_TEXT[latest.status] ?? latest.status}
      {unread > 0 && (
        <span className="ml-2 rounded-full bg-accent px-1.5 text-accent-fg">
          {unread} unread comment{unread === 1 ? "" : "s"}
        </span>
      )}
    </Link>
  );
}
