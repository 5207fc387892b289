"use client";

import { useEffect, useRef, useState } from "react";
import type { AdmissionState, LiveSandbox } from "@/lib/admission";
import { listMySandboxes } from "@/lib/admissionFlow";
import { formatBytes } from "@/lib/format";
import { endSandbox } from "@/lib/sandbox";
import { ErrorMessage } from "./ErrorMessage";

/**
 * What the IDE shows while the server refuses to start a sandbox (see
 * lib/admission.ts): a banner counting down to the next try while the server
 * is full, or, at the cap on active sandboxes, a dialog listing the user's
 * running sandboxes with a Stop button each. A busy one (a run running, a
 * terminal attached) is stopped only after a second, explicit confirmation.
 * Loaded on demand: the workspace page carries none of this until a refusal.
 */
export function AdmissionNotice({ state }: { state: AdmissionState }) {
  if (state.kind === "full") {
    return <ServerFull retryAt={state.retryAt} />;
  }
  if (state.kind === "cap") {
    return <StopOne message={state.message} decide={state.decide} />;
  }
  return null;
}

function ServerFull({ retryAt }: { retryAt: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 250);
    return () => window.clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.ceil((retryAt - now) / 1000));
  return (
    <div
      role="status"
      data-testid="server-full"
      className="border-b border-amber-500/40 bg-amber-500/12 px-4 py-2 text-sm"
    >
      The server is full, retrying in {seconds} s.
    </div>
  );
}

function describe(sandbox: LiveSandbox): string {
  const parts = [`${formatBytes(sandbox.memory_bytes)} of memory`];
  if (sandbox.runs > 0) {
    parts.push(sandbox.runs === 1 ? "a run is running" : `${sandbox.runs} runs are running`);
  }
  if (sandbox.attached_terminals > 0) {
    parts.push(sandbox.attached_terminals === 1 ? "a terminal is open" : `${sandbox.attached_terminals} terminals are open`);
  }
  return parts.join(", ");
}

function StopOne({ message, decide }: { message: string; decide: (retry: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [sandboxes, setSandboxes] = useState<LiveSandbox[] | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [stopping, setStopping] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    ref.current?.showModal();
    let live = true;
    void listMySandboxes().then((answer) => {
      if (!live) {
        return;
      }
      if (answer.ok) {
        setSandboxes(answer.sandboxes);
      } else {
        setError(answer.message);
      }
    });
    return () => {
      live = false;
    };
  }, []);

  const stop = async (sandbox: LiveSandbox) => {
    if (sandbox.busy && confirming !== sandbox.workspace_id) {
      setConfirming(sandbox.workspace_id);
      return;
    }
    setStopping(sandbox.workspace_id);
    const answer = await endSandbox(sandbox.workspace_id);
    setStopping(null);
    if (answer.ok) {
      decide(true);
    } else {
      setError(answer.message);
    }
  };

  return (
    <dialog
      ref={ref}
      aria-labelledby="cap-title"
      data-testid="sandbox-cap"
      onCancel={(event) => {
        event.preventDefault();
        decide(false);
      }}
      className="m-auto w-[min(32rem,calc(100vw-2rem))] rounded-xl border border-line bg-surface p-0 text-fg shadow-xl"
    >
      <div className="space-y-4 p-6">
        <h2 id="cap-title" className="text-lg font-semibold">
          Stop a sandbox to start this one
        </h2>
        <p className="text-sm text-fg-muted">{message}</p>
        {sandboxes === null && error === null && <p className="text-sm">Loading your sandboxes…</p>}
        {sandboxes !== null && (
          <ul className="space-y-2">
            {sandboxes.map((sandbox) => (
              <li key={sandbox.workspace_id} className="flex items-center gap-3 rounded-md border border-line px-3 py-2">
                <div className="min-w-0 flex-1">
                  <p className="truncate font-medium">{sandbox.workspace_name || sandbox.workspace_id}</p>
                  <p className="text-xs text-fg-muted">{describe(sandbox)}</p>
                  {confirming === sandbox.workspace_id && (
                    <p className="text-xs text-danger" role="alert">
                      Stopping it ends what runs there now. Stop it anyway?
                    </p>
                  )}
                </div>
                <button
                  type="button"
                  className="btn-danger shrink-0"
                  disabled={stopping !== null}
                  onClick={() => void stop(sandbox)}
                  aria-label={`Stop the sandbox of ${sandbox.workspace_name}`}
                >
                  {stopping === sandbox.workspace_id
                    ? "Stopping…"
                    : confirming === sandbox.workspace_id
                      ? "Stop anyway"
                      : "Stop"}
                </button>
              </li>
            ))}
          </ul>
        )}
        {error !== null && <ErrorMessage message={error} />}
        <div className="flex justify-end pt-2">
          <button type="button" className="btn-secondary" onClick={() => decide(false)} autoFocus>
            Cancel
          </button>
        </div>
      </div>
    </dialog>
  );
}
