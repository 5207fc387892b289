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
 * terminal). The state is a tiny store (`subscribe`, `admissionState`) that
 * the lazily loaded notice (components/AdmissionNotice.tsx) renders, so the
 * workspace page carries only this module until a refusal happens.
 */
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { attempt, failure, type Result } from "./result";

export type LiveSandbox = components["schemas"]["LiveSandboxOut"];

export type AdmissionState =
  | { kind: "idle" }
  /** Waiting for room: the next try is at `retryAt` (ms since the epoch). */
  | { kind: "full"; retryAt: number; message: string }
  /** At the cap: `decide(true)` once one is stopped (try again), `decide(false)` to give up. */
  | { kind: "cap"; message: string; decide: (retry: boolean) => void };

type Answer = { error?: unknown; response: Response };

let state: AdmissionState = { kind: "idle" };
const listeners = new Set<() => void>();
let fullWaiters = 0;

function publish(next: AdmissionState): void {
  state = next;
  listeners.forEach((listener) => listener());
}

/** For `useSyncExternalStore`: the current state and a subscription. */
export function admissionState(): AdmissionState {
  return state;
}

export function subscribeAdmission(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function detailOf(error: unknown): string {
  const detail = typeof error === "object" && error !== null ? (error as { detail?: unknown }).detail : undefined;
  return typeof detail === "string" ? detail : "";
}

function isSandboxCap(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { limit?: unknown }).limit === "sandboxes_per_user";
}

function waitFull(seconds: number, message: string): Promise<void> {
  fullWaiters += 1;
  publish({ kind: "full", retryAt: Date.now() + seconds * 1000, message });
  return new Promise((resolve) =>
    window.setTimeout(() => {
      fullWaiters -= 1;
      if (fullWaiters === 0 && state.kind === "full") {
        publish({ kind: "idle" });
      }
      resolve();
    }, seconds * 1000),
  );
}

function askToStopOne(message: string): Promise<boolean> {
  return new Promise((resolve) =>
    publish({
      kind: "cap",
      message,
      decide: (retry) => {
        publish({ kind: "idle" });
        resolve(retry);
      },
    }),
  );
}

/** `call`'s answer once admitted (see the module comment), or its refusal if the user gives up. */
export async function admitted<A extends Answer>(call: () => Promise<A>): Promise<A> {
  for (;;) {
    const answer = await call();
    const { status, headers } = answer.response;
    const retryAfter = Number(headers.get("Retry-After"));
    if (status === 503 && retryAfter > 0) {
      await waitFull(Math.min(retryAfter, 300), detailOf(answer.error));
      continue;
    }
    if (status === 429 && isSandboxCap(answer.error) && state.kind !== "cap") {
      if (await askToStopOne(detailOf(answer.error))) {
        continue;
      }
    }
    return answer;
  }
}

/** `GET /api/sandboxes`: the user's running sandboxes, oldest first. */
export function listMySandboxes(): Promise<Result<{ sandboxes: LiveSandbox[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/sandboxes");
    return data !== undefined ? { ok: true, sandboxes: data } : failure(error, response);
  });
}
