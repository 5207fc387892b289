"use client";

import { useCallback, useEffect, useState } from "react";
import {
  commandLog,
  getAdmission,
  listSandboxes,
  listUsers,
  stopSandbox,
  type AdminSandbox,
  type AdminUser,
  type Admission,
  type CommandLogEntry,
} from "@/lib/admin";
import { formatBytes, formatDateTime } from "@/lib/format";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorMessage } from "./ErrorMessage";

/** How often the live parts (sandboxes, admission) are asked again. */
const REFRESH_MS = 5000;

/**
 * The administration view: the host's admission state, live sandboxes (with
 * a Stop button each, confirmed first), users with their usage, refusals of
 * limits, and the command log with filters. Each section loads on its own,
 * so one failing leaves the others usable.
 */
export function AdminView() {
  return (
    <main className="mx-auto max-w-6xl space-y-10 px-4 py-8">
      <h1 className="text-2xl font-semibold">Administration</h1>
      <SandboxesSection />
      <UsersSection />
      <RefusalsSection />
      <CommandLogSection />
    </main>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section aria-labelledby={`admin-${title}`} className="space-y-3">
      <h2 id={`admin-${title}`} className="text-lg font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

const TH = "px-2 py-1 text-left font-medium text-fg-muted";
const TD = "px-2 py-1 align-top";

function SandboxesSection() {
  const [sandboxes, setSandboxes] = useState<AdminSandbox[] | null>(null);
  const [admission, setAdmission] = useState<Admission | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [stopping, setStopping] = useState<AdminSandbox | null>(null);
  const [busy, setBusy] = useState(false);
  const [stopError, setStopError] = useState<string | null>(null);

  const load = useCallback(
    () =>
      Promise.all([listSandboxes(), getAdmission(null)]).then(([listed, state]) => {
        if (listed.ok) {
          setSandboxes(listed.sandboxes);
          setError(null);
        } else {
          setError(listed.message);
        }
        if (state.ok) {
          setAdmission(state.admission);
        }
      }),
    [],
  );

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  const confirmStop = async () => {
    if (stopping === null) {
      return;
    }
    setBusy(true);
    const answer = await stopSandbox(stopping.workspace_id);
    setBusy(false);
    // 404: it ended meanwhile, which is what was asked.
    if (answer.ok || answer.status === 404) {
      setStopping(null);
      setStopError(null);
      await load();
    } else {
      setStopError(answer.message);
    }
  };

  return (
    <Section title="Live sandboxes">
      {admission !== null && (
        <p className="text-sm text-fg-muted" data-testid="admission-summary">
          {admission.sandboxes} running; memory in use{" "}
          {admission.memory_in_use_bytes === null ? "unknown" : formatBytes(admission.memory_in_use_bytes)} of a{" "}
          {formatBytes(admission.memory_budget_bytes)} budget; {admission.cpus} CPUs for all sandboxes; at most{" "}
          {admission.sandboxes_per_user} per user.
        </p>
      )}
      {error !== null && <ErrorMessage message={error} onRetry={() => void load()} />}
      {sandboxes !== null && sandboxes.length === 0 && <p className="text-sm">No sandbox is running.</p>}
      {sandboxes !== null && sandboxes.length > 0 && (
        <table className="w-full text-sm" data-testid="admin-sandboxes">
          <thead>
            <tr>
              <th className={TH}>User</th>
              <th className={TH}>Workspace</th>
              <th className={TH}>Memory</th>
              <th className={TH}>CPU</th>
              <th className={TH}>Processes</th>
              <th className={TH}>In use</th>
              <th className={TH}>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sandboxes.map((sandbox) => (
              <tr key={sandbox.workspace_id} className="border-t border-line">
                <td className={TD}>{sandbox.username ?? sandbox.user_id}</td>
                <td className={TD}>{sandbox.workspace_name}</td>
                <td className={TD}>
                  {formatBytes(sandbox.memory_bytes)} / {formatBytes(sandbox.memory_limit_bytes)}
                </td>
                <td className={TD}>{sandbox.cpu_seconds.toFixed(1)} s</td>
                <td className={TD}>{sandbox.pids}</td>
                <td className={TD}>
                  {sandbox.runs} runs, {sandbox.attached_terminals}/{sandbox.terminals} terminals attached
                </td>
                <td className={TD}>
                  <button
                    type="button"
                    className="btn-danger"
                    onClick={() => setStopping(sandbox)}
                    aria-label={`Stop the sandbox of ${sandbox.username ?? sandbox.user_id}'s ${sandbox.workspace_name}`}
                  >
                    Stop
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        open={stopping !== null}
        title="Stop this sandbox?"
        confirmLabel="Stop"
        busyLabel="Stopping…"
        busy={busy}
        error={stopError}
        onConfirm={() => void confirmStop()}
        onCancel={() => {
          setStopping(null);
          setStopError(null);
        }}
      >
        {stopping !== null && (
          <p>
            Everything in {stopping.username ?? stopping.user_id}&apos;s sandbox for {stopping.workspace_name} ends now
            {stopping.busy ? ", including a run or terminal in use" : ""}. Their files stay.
          </p>
        )}
      </ConfirmDialog>
    </Section>
  );
}

function UsersSection() {
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [next, setNext] = useState<number | null>(0);
  const [error, setError] = useState<string | null>(null);

  const more = useCallback(
    (offset: number, replace: boolean) =>
      listUsers(offset).then((answer) => {
        if (!answer.ok) {
          setError(answer.message);
          return;
        }
        setError(null);
        setUsers((current) => (replace ? answer.users : [...current, ...answer.users]));
        setNext(answer.nextOffset);
      }),
    [],
  );

  useEffect(() => {
    void more(0, true);
  }, [more]);

  return (
    <Section title="Users">
      {error !== null && <ErrorMessage message={error} onRetry={() => void more(0, true)} />}
      <table className="w-full text-sm" data-testid="admin-users">
        <thead>
          <tr>
            <th className={TH}>User</th>
            <th className={TH}>Role</th>
            <th className={TH}>Workspaces</th>
            <th className={TH}>Sandboxes</th>
            <th className={TH}>Memory</th>
            <th className={TH}>CPU</th>
            <th className={TH}>Storage</th>
            <th className={TH}>Runs today</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} className="border-t border-line">
              <td className={TD}>{user.username}</td>
              <td className={TD}>{user.role}</td>
              <td className={TD}>{user.workspaces}</td>
              <td className={TD}>{user.sandboxes}</td>
              <td className={TD}>{formatBytes(user.memory_bytes)}</td>
              <td className={TD}>{user.cpu_seconds.toFixed(1)} s</td>
              <td className={TD}>{formatBytes(user.storage_bytes)}</td>
              <td className={TD}>{user.runs_today}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== null && next > 0 && (
        <button type="button" className="btn-secondary" onClick={() => void more(next, false)}>
          More users
        </button>
      )}
    </Section>
  );
}

function RefusalsSection() {
  const [status, setStatus] = useState<429 | 503 | null>(null);
  const [admission, setAdmission] = useState<Admission | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    () =>
      getAdmission(status).then((answer) => {
        if (answer.ok) {
          setAdmission(answer.admission);
          setError(null);
        } else {
          setError(answer.message);
        }
      }),
    [status],
  );

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  return (
    <Section title="Refusals">
      <label className="flex items-center gap-2 text-sm">
        Show
        <select
          value={status ?? ""}
          onChange={(event) => setStatus(event.target.value === "" ? null : (Number(event.target.value) as 429 | 503))}
          className="rounded border border-line bg-surface px-2 py-1"
        >
          <option value="">all refusals</option>
          <option value="429">per-user limits (429)</option>
          <option value="503">server full (503)</option>
        </select>
      </label>
      {error !== null && <ErrorMessage message={error} onRetry={() => void load()} />}
      {admission !== null && admission.refusals.length === 0 && <p className="text-sm">No refusals.</p>}
      {admission !== null && admission.refusals.length > 0 && (
        <table className="w-full text-sm" data-testid="admin-refusals">
          <thead>
            <tr>
              <th className={TH}>When</th>
              <th className={TH}>Status</th>
              <th className={TH}>User</th>
              <th className={TH}>Route</th>
              <th className={TH}>Sentence</th>
            </tr>
          </thead>
          <tbody>
            {admission.refusals.map((refusal) => (
              <tr key={refusal.id} className="border-t border-line">
                <td className={TD}>{formatDateTime(refusal.at)}</td>
                <td className={TD}>{refusal.status}</td>
                <td className={TD}>{refusal.username ?? refusal.user_id ?? "—"}</td>
                <td className={`${TD} font-mono text-xs`}>{refusal.route}</td>
                <td className={TD}>{refusal.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function CommandLogSection() {
  const [username, setUsername] = useState("");
  const [workspace, setWorkspace] = useState("");
  // The filters in force: applied on submit, not on every keystroke.
  const [applied, setApplied] = useState({ username: "", workspace: "" });
  const [entries, setEntries] = useState<CommandLogEntry[]>([]);
  const [before, setBefore] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    (older: number | null) =>
      commandLog({
        ...(applied.username ? { username: applied.username } : {}),
        ...(applied.workspace ? { workspace_id: applied.workspace } : {}),
        ...(older !== null ? { before: older } : {}),
      }).then((answer) => {
        if (!answer.ok) {
          setError(answer.message);
          return;
        }
        setError(null);
        setEntries((current) => (older === null ? answer.entries : [...current, ...answer.entries]));
        setBefore(answer.nextBefore);
      }),
    [applied],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  return (
    <Section title="Command log">
      <form
        className="flex flex-wrap items-end gap-3 text-sm"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ username: username.trim(), workspace: workspace.trim() });
        }}
      >
        <label className="flex flex-col gap-1">
          User name
          <input
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            className="rounded border border-line bg-surface px-2 py-1"
          />
        </label>
        <label className="flex flex-col gap-1">
          Workspace id
          <input
            value={workspace}
            onChange={(event) => setWorkspace(event.target.value)}
            className="rounded border border-line bg-surface px-2 py-1"
          />
        </label>
        <button type="submit" className="btn-secondary">
          Filter
        </button>
      </form>
      {error !== null && <ErrorMessage message={error} onRetry={() => void load(null)} />}
      {entries.length === 0 && error === null && <p className="text-sm">No commands.</p>}
      {entries.length > 0 && (
        <table className="w-full text-sm" data-testid="admin-command-log">
          <thead>
            <tr>
              <th className={TH}>When</th>
              <th className={TH}>User</th>
              <th className={TH}>Command</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} className="border-t border-line">
                <td className={TD}>{formatDateTime(entry.created_at)}</td>
                <td className={TD}>{entry.username ?? entry.user_id}</td>
                <td className={`${TD} font-mono text-xs whitespace-pre-wrap`}>{entry.command}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {before !== null && (
        <button type="button" className="btn-secondary" onClick={() => void load(before)}>
          Older commands
        </button>
      )}
    </Section>
  );
}
