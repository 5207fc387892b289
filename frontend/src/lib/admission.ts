/**
 * Admission: what the IDE does when the server refuses to start a sandbox.
 *
 * - 503 with `Retry-After` (the server is full): wait that long, showing
 *   "The server is full, retrying in N s", and try again, by itself, until
 *   it is admitted.
 * - 429 naming the cap on active sandboxes (`limit: "sandboxes_per_user"`):
 *   ask the user which of their running sandboxes to stop (never one that is
 *   busy without their word); once one is stopped, try again; if they
 *   decline, the caller gets the 429 as it came.
 *
 * `admitted(call)` wraps a call that may start a sandbox (a run, a
 * terminal). Only this check is in the page's scripts: the waiting and
 * asking (lib/admissionFlow.ts) and what shows it
 * (components/AdmissionNotice.tsx) load when a refusal first comes.
 */
import type { components } from "@/api/schema";

export type LiveSandbox = components["schemas"]["LiveSandboxOut"];

export type AdmissionState =
  | { kind: "idle" }
  /** Waiting for room: the next try is at `retryAt` (ms since the epoch). */
  | { kind: "full"; retryAt: number; message: string }
  /** At the cap: `decide(true)` once one is stopped (try again), `decide(false)` to give up. */
  | { kind: "cap"; message: string; decide: (retry: boolean) => void };

export type Answer = { error?: unknown; response: Response };

let listener: ((state: AdmissionState) => void) | null = null;

/** Hear of every change of the admission state (one listener: the IDE); returns the release. */
export function watchAdmission(onChange: (state: AdmissionState) => void): () => void {
  listener = onChange;
  return () => {
    if (listener === onChange) {
      listener = null;
    }
  };
}

/** Tell the listener of a new state (lib/admissionFlow.ts). */
export function showAdmission(state: AdmissionState): void {
  listener?.(state);
}

/** `call`'s answer once admitted (see the module comment), or its refusal if the user gives up. */
export async function admitted<A extends Answer>(call: () => Promise<A>): Promise<A> {
  const answer = await call();
  const status = answer.response.status;
  if (status !== 503 && status !== 429) {
    return answer;
  }
  const { admit } = await import("./admissionFlow");
  return admit(answer, call);
}
