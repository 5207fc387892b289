"use client";

import { useId, useState, type FormEvent } from "react";
import { formatDateTime, formatRelative } from "@/lib/format";
import { linesText, type Thread } from "@/lib/review";
import { addComment, type Comment } from "@/lib/submissions";
import { ErrorMessage } from "../ErrorMessage";
import { Markdown } from "./Markdown";

/**
 * The comments on one file of a submission: every thread (with its replies
 * and a reply box), and a form to comment on the selected line or range.
 * `version` is the submission's: a comment made on another version is marked.
 */
export function CommentThreads({
  submissionId,
  path,
  version,
  threads,
  selection,
  onSelection,
  onAdded,
}: {
  submissionId: string;
  path: string;
  version: number;
  threads: Thread[];
  selection: { line: number; endLine: number } | null;
  onSelection: (line: number, endLine: number) => void;
  onAdded: (comment: Comment) => void;
}) {
  return (
    <section aria-label={`Comments on ${path}`} className="space-y-3">
      <NewComment submissionId={submissionId} path={path} selection={selection} onSelection={onSelection} onAdded={onAdded} />
      {threads.length === 0 ? (
        <p className="text-sm text-fg-muted">No comments on this file.</p>
      ) : (
        <ol aria-label="Threads" className="space-y-3">
          {threads.map((thread) => (
            <li key={thread.root.id} className="rounded-md border border-line" data-testid="thread" data-line={thread.root.line}>
              <button
                type="button"
                className="w-full border-b border-line px-3 py-1 text-left text-xs font-semibold text-fg-muted hover:text-fg"
                onClick={() => onSelection(thread.root.line, thread.root.end_line)}
              >
                {linesText(thread.root)}
                {thread.root.version !== version && ` (on version ${thread.root.version})`}
              </button>
              <ul className="divide-y divide-line">
                {[thread.root, ...thread.replies].map((comment) => (
                  <li key={comment.id} className="space-y-1 px-3 py-2">
                    <p className="text-xs text-fg-muted">
                      <span className="font-semibold text-fg">{comment.author ?? "Someone"}</span>{" "}
                      <time dateTime={comment.created_at} title={formatDateTime(comment.created_at)}>
                        {formatRelative(comment.created_at)}
                      </time>
                    </p>
                    <Markdown source={comment.body} />
                  </li>
                ))}
              </ul>
              <Reply submissionId={submissionId} root={thread.root} onAdded={onAdded} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function NewComment({
  submissionId,
  path,
  selection,
  onSelection,
  onAdded,
}: {
  submissionId: string;
  path: string;
  selection: { line: number; endLine: number } | null;
  onSelection: (line: number, endLine: number) => void;
  onAdded: (comment: Comment) => void;
}) {
  const id = useId();
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const line = selection?.line ?? 1;
  const endLine = selection?.endLine ?? line;

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (body.trim() === "") {
      setError("Write a comment first.");
      return;
    }
    setBusy(true);
    setError(null);
    const result = await addComment(submissionId, { path, line, endLine, body });
    setBusy(false);
    if (result.ok) {
      setBody("");
      onAdded(result.comment);
    } else {
      setError(result.message);
    }
  }

  return (
    <form onSubmit={(event) => void send(event)} className="space-y-2" aria-label="New comment" noValidate>
      <div className="flex items-end gap-2 text-sm">
        <label htmlFor={`${id}-line`} className="text-fg-muted">
          Line
        </label>
        <input
          id={`${id}-line`}
          type="number"
          min={1}
          className="input w-20 py-1"
          value={line}
          onChange={(event) => {
            const value = Math.max(1, Number(event.target.value) || 1);
            onSelection(value, Math.max(value, endLine));
          }}
        />
        <label htmlFor={`${id}-end`} className="text-fg-muted">
          to
        </label>
        <input
          id={`${id}-end`}
          type="number"
          min={line}
          className="input w-20 py-1"
          value={endLine}
          onChange={(event) => onSelection(line, Math.max(line, Number(event.target.value) || line))}
        />
      </div>
      <label htmlFor={`${id}-body`} className="sr-only">
        Comment on {path}
      </label>
      <textarea
        id={`${id}-body`}
        className="input min-h-20 font-sans"
        placeholder="Comment (Markdown)"
        value={body}
        onChange={(event) => setBody(event.target.value)}
        disabled={busy}
      />
      {error !== null && <ErrorMessage message={error} />}
      <button type="submit" className="btn-primary px-3 py-1" disabled={busy}>
        {busy ? "Commenting…" : endLine !== line ? `Comment on lines ${line}–${endLine}` : `Comment on line ${line}`}
      </button>
    </form>
  );
}

function Reply({ submissionId, root, onAdded }: { submissionId: string; root: Comment; onAdded: (comment: Comment) => void }) {
  const id = useId();
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (body.trim() === "") {
      return;
    }
    setBusy(true);
    setError(null);
    const result = await addComment(submissionId, { path: root.path, line: root.line, body, replyTo: root.id });
    setBusy(false);
    if (result.ok) {
      setBody("");
      onAdded(result.comment);
    } else {
      setError(result.message);
    }
  }

  return (
    <form onSubmit={(event) => void send(event)} className="flex items-start gap-2 border-t border-line px-3 py-2" noValidate>
      <label htmlFor={id} className="sr-only">
        Reply to the comment on line {root.line}
      </label>
      <textarea
        id={id}
        rows={1}
        className="input min-h-8 flex-1 py-1 font-sans"
        placeholder="Reply"
        value={body}
        onChange={(event) => setBody(event.target.value)}
        disabled={busy}
      />
      <button type="submit" className="btn-secondary px-3 py-1" disabled={busy || body.trim() === ""}>
        Reply
      </button>
      {error !== null && <ErrorMessage message={error} />}
    </form>
  );
}
