"use client";

import { useId, useState, type FormEvent } from "react";
import { dueAtOf, filesOf, namesOf, type FileRow } from "@/lib/review";
import { createAssignment, type Assignment, type HiddenVisibility, type Release, type Visibility } from "@/lib/assignments";
import { ErrorMessage } from "../ErrorMessage";
import { FilesField } from "./FilesField";
import { Markdown } from "./Markdown";

const HIDDEN_VISIBILITY: ReadonlyArray<[HiddenVisibility, string]> = [
  ["hidden", "Never one by one (a count and a score)"],
  ["after_due_date", "One by one after the due date"],
  ["after_published", "One by one once results are released"],
];

const RELEASES: ReadonlyArray<[Release, string]> = [
  ["immediately", "At once"],
  ["after_due_date", "After the due date"],
  ["manual", "When I release them"],
];

/**
 * The form a reviewer or an administrator creates an assignment with: title,
 * description (Markdown, with a preview rendered as students will see it),
 * starter files, hidden tests, visible tests, due date, who may see it,
 * co-reviewers, when results and grades reach students, and whether it is
 * published yet.
 */
export function AssignmentForm({ onCreated, onCancel }: { onCreated: (assignment: Assignment) => void; onCancel: () => void }) {
  const id = useId();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [preview, setPreview] = useState(false);
  const [starter, setStarter] = useState<FileRow[]>([{ path: "main.py", text: "" }]);
  const [tests, setTests] = useState<FileRow[]>([{ path: "test_main.py", text: "" }]);
  const [visibleTests, setVisibleTests] = useState<FileRow[]>([]);
  const [due, setDue] = useState("");
  const [audience, setAudience] = useState<Visibility>("everyone");
  const [users, setUsers] = useState("");
  const [release, setRelease] = useState<Release>("immediately");
  const [published, setPublished] = useState(true);
  const [hiddenVisibility, setHiddenVisibility] = useState<HiddenVisibility>("hidden");
  const [coReviewers, setCoReviewers] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (title.trim() === "") {
      setError("Give the assignment a title.");
      return;
    }
    const body = {
      title: title.trim(),
      description,
      starter: filesOf(starter),
      tests: filesOf(tests),
      visible_tests: filesOf(visibleTests),
      due_at: dueAtOf(due),
      visibility: audience,
      users: audience === "users" ? namesOf(users) : [],
      co_reviewers: namesOf(coReviewers),
      release,
      published,
      hidden_tests_visibility: hiddenVisibility,
    };
    setBusy(true);
    setError(null);
    const result = await createAssignment(body);
    setBusy(false);
    if (result.ok) {
      onCreated(result.assignment);
    } else {
      setError(result.message);
    }
  }

  return (
    <form onSubmit={(event) => void create(event)} className="card space-y-4 p-5" aria-labelledby={`${id}-title`} noValidate>
      <h2 id={`${id}-title`} className="text-lg font-semibold">
        New assignment
      </h2>
      <div className="space-y-1">
        <label htmlFor={`${id}-name`} className="block text-sm font-medium">
          Title
        </label>
        <input id={`${id}-name`} className="input" value={title} onChange={(event) => setTitle(event.target.value)} disabled={busy} maxLength={200} />
      </div>
      <div className="space-y-1">
        <div className="flex items-center gap-3">
          <label htmlFor={`${id}-description`} className="block text-sm font-medium">
            Description (Markdown)
          </label>
          <button type="button" className="btn-ghost px-2 py-0.5 text-xs" aria-pressed={preview} onClick={() => setPreview((shown) => !shown)}>
            Preview
          </button>
        </div>
        <textarea
          id={`${id}-description`}
          className="input min-h-28 font-sans"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          disabled={busy}
        />
        {preview && (
          <div className="rounded-md border border-line p-3" aria-label="Description preview">
            <Markdown source={description} />
          </div>
        )}
      </div>
      <FilesField legend="Starter file" hint="Every student's workspace starts with these." rows={starter} onChange={setStarter} disabled={busy} />
      <FilesField
        legend="Hidden test file"
        hint="pytest files students never see; a test is worth 1 point unless marked @pytest.mark.points(n)."
        rows={tests}
        onChange={setTests}
        disabled={busy}
      />
      <FilesField legend="Visible test file" hint="pytest files students also get." rows={visibleTests} onChange={setVisibleTests} disabled={busy} />
      <div className="grid gap-4 sm:grid-cols-2">
        <div className="space-y-1">
          <label htmlFor={`${id}-due`} className="block text-sm font-medium">
            Due (optional; later submissions are flagged late)
          </label>
          <input id={`${id}-due`} type="datetime-local" className="input" value={due} onChange={(event) => setDue(event.target.value)} disabled={busy} />
        </div>
        <div className="space-y-1">
          <label htmlFor={`${id}-reviewers`} className="block text-sm font-medium">
            Co-reviewers (usernames)
          </label>
          <input id={`${id}-reviewers`} className="input" value={coReviewers} onChange={(event) => setCoReviewers(event.target.value)} disabled={busy} />
        </div>
      </div>
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium">Who may see it</legend>
        <div className="flex flex-wrap gap-4 text-sm">
          {(
            [
              ["everyone", "Everyone signed in"],
              ["users", "Listed users"],
              ["code", "Whoever has the join code (given once created)"],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="flex items-center gap-1.5">
              <input type="radio" name={`${id}-audience`} checked={audience === value} onChange={() => setAudience(value)} disabled={busy} />
              {label}
            </label>
          ))}
        </div>
        {audience === "users" && (
          <>
            <label htmlFor={`${id}-users`} className="sr-only">
              Usernames who may see it
            </label>
            <textarea id={`${id}-users`} className="input" placeholder="usernames" value={users} onChange={(event) => setUsers(event.target.value)} />
          </>
        )}
      </fieldset>
      <div className="flex flex-wrap items-end gap-6">
        <div className="space-y-1">
          <label htmlFor={`${id}-release`} className="block text-sm font-medium">
            Release results and grades to students
          </label>
          <select id={`${id}-release`} className="input" value={release} onChange={(event) => setRelease(RELEASES.find(([value]) => value === event.target.value)?.[0] ?? "immediately")} disabled={busy}>
            {RELEASES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="space-y-1">
          <label htmlFor={`${id}-hidden`} className="block text-sm font-medium">
            Hidden tests' results shown to students
          </label>
          <select
            id={`${id}-hidden`}
            className="input"
            value={hiddenVisibility}
            onChange={(event) => setHiddenVisibility(HIDDEN_VISIBILITY.find(([value]) => value === event.target.value)?.[0] ?? "hidden")}
            disabled={busy}
          >
            {HIDDEN_VISIBILITY.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <label className="flex items-center gap-1.5 text-sm">
          <input type="checkbox" checked={published} onChange={(event) => setPublished(event.target.checked)} disabled={busy} />
          Published (students can see it)
        </label>
      </div>
      {error !== null && <ErrorMessage message={error} />}
      <div className="flex justify-end gap-2">
        <button type="button" className="btn-secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="btn-primary" disabled={busy}>
          {busy ? "Creating…" : "Create assignment"}
        </button>
      </div>
    </form>
  );
}
