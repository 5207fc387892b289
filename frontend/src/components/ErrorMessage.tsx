/** An error sentence for people, announced to screen readers, with an optional retry. */
export function ErrorMessage({
  message,
  onRetry,
  id,
}: {
  message: string;
  onRetry?: () => void;
  id?: string;
}) {
  return (
    <div
      id={id}
      role="alert"
      className="flex items-start justify-between gap-3 rounded-md border border-danger/40 bg-danger-soft px-3 py-2 text-sm text-danger"
    >
      <p>{message}</p>
      {onRetry !== undefined && (
        <button type="button" onClick={onRetry} className="shrink-0 font-medium underline underline-offset-2">
          Try again
        </button>
      )}
    </div>
  );
}
