"use client";

import { useId, useState, type FormEvent } from "react";
import { formatDateTime, formatRelative } from "@/lib/format";
import { STATE_TEXT } from "@/lib/review";
import { addReview, type Review, type ReviewState } from "@/lib/submissions";
import { ErrorMessage } from "../ErrorMessage";
import { Markdown } from "./Markdown";

const STATES: ReadonlyArray<[ReviewState, string]> = [
  ["commented", "Comment"],
  ["changes_requested", "Request changes"],
  ["approved", "Approve"],
];

/**
 * The reviews of one version (newest last; a review of an earlier version is
 * marked outdated), and for a reviewer the form that adds one: a state, a
 * summary in Markdown and an optional score.
 */
export function ReviewPanel({
  submissionId,
  reviews,
  canReview,
  onAdded,
}: {
  submissionId: string;
  reviews: Review[];
  canReview: boolean;
  onAdded: (review: Review) => void;
}) {
  return (
    <section aria-labelledby="reviews-title" className="space-y-3">
      <h2 id="reviews-title" className="font-semibold">
        Reviews
      </h2>
      {reviews.length === 0 ? (
        <p className="text-sm text-fg-muted">No review yet.</p>
      ) : (
        <ol aria-label="Reviews" className="space-y-2">
          {reviews.map((review) => (
            <li key={review.id} className="space-y-1 rounded-md border border-line px-3 py-2" data-testid="review" data-state={review.state}>
              <p className="text-xs text-fg-muted">
                <span className="font-semibold text-fg">{STATE_TEXT[review.state] ?? review.state}</span>
                {review.reviewer !== undefined && ` by ${review.reviewer}`}{" "}
                <time dateTime={review.created_at} title={formatDateTime(review.created_at)}>
                  {formatRelative(review.created_at)}
                </time>
                {review.outdated && <span className="ml-2 rounded border border-line px-1">outdated</span>}
                {review.score != null && <span className="ml-2">score {review.score}</span>}
              </p>
              {review.body !== "" && <Markdown source={review.body} />}
            </li>
          ))}
        </ol>
      )}
      {canReview && <ReviewForm submissionId={submissionId} onAdded={onAdded} />}
    </section>
  );
}

function ReviewForm({ submissionId, onAdded }: { submissionId: string; onAdded: (review: Review) => void }) {
  const id = useId();
  const [state, setState] = useState<ReviewState>("commented");
  const [body, setBody] = useState("");
  const [score, setScore] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = score.trim() === "" ? null : Number(score);
    if (parsed !== null && !Number.isFinite(parsed)) {
      setError("The score must be a number.");
      return;
    }
    setBusy(true);
    setError(null);
    const result = await addReview(submissionId, { state, body, score: parsed });
    setBusy(false);
    if (result.ok) {
      setBody("");
      setScore("");
      onAdded(result.review);
    } else {
      setError(result.message);
    }
  }

  return (
    <form onSubmit={(event) => void send(event)} className="space-y-2 rounded-md border border-line p-3" aria-label="Your review" noValidate>
      <fieldset className="flex flex-wrap gap-3 text-sm">
        <legend className="sr-only">Review state</legend>
        {STATES.map(([value, label]) => (
          <label key={value} className="flex items-center gap-1.5">
            <input type="radio" name={`${id}-state`} value={value} checked={state === value} onChange={() => setState(value)} />
            {label}
          </label>
        ))}
      </fieldset>
      <label htmlFor={`${id}-body`} className="block text-sm font-medium">
        Summary
      </label>
      <textarea
        id={`${id}-body`}
        className="input min-h-20 font-sans"
        placeholder="Markdown"
        value={body}
        onChange={(event) => setBody(event.target.value)}
        disabled={busy}
      />
      <div className="flex items-end gap-2">
        <div>
          <label htmlFor={`${id}-score`} className="block text-sm font-medium">
            Score (optional)
          </label>
          <input
            id={`${id}-score`}
            inputMode="decimal"
            className="input w-28 py-1"
            value={score}
            onChange={(event) => setScore(event.target.value)}
            disabled={busy}
          />
        </div>
        <button type="submit" className="btn-primary ml-auto px-3 py-1.5" disabled={busy}>
          {busy ? "Sending…" : "Submit review"}
        </button>
      </div>
      {error !== null && <ErrorMessage message={error} />}
    </form>
  );
}
