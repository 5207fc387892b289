/**
 * The waiting and asking of lib/admission.ts, loaded when a refusal first
 * comes: a full server is waited out and tried again; at the cap on
 * sandboxes, the user is asked which one to stop; over the request rate
 * (`limit: "user_requests_per_s"`, a second or two), the call is tried again
 * after `Retry-After`, quietly, a few times. `GET /api/sandboxes` is here too,
 * for the dialog that asks.
 */
import { api } from "@/api/client";
import { showAdmission, type Answer, type LiveSandbox } from "./admission";
import { attempt, failure, type Result } from "./result";

let fullWaiters = 0;
let asking = false;

function detailOf(error: unknown): string {
  const detail = typeof error === "object" && error !== null ? (error as { detail?: unknown }).detail : undefined;
  return typeof detail === "string" ? detail : "";
}

function limitOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { limit?: unknown }).limit : undefined;
}

function isSandboxCap(error: unknown): boolean {
  return limitOf(error) === "sandboxes_per_user";
}

/** Tries again after the request rate refused a call, before its refusal is shown. */
const RATE_RETRIES = 3;

function waitFull(seconds: number, message: string): Promise<void> {
  fullWaiters += 1;
  showAdmission({ kind: "full", retryAt: Date.now() + seconds * 1000, message });
  return new Promise((resolve) =>
    window.setTimeout(() => {
      fullWaiters -= 1;
      if (fullWaiters === 0) {
        showAdmission({ kind: "idle" });
      }
      resolve();
    }, seconds * 1000),
  );
}

function askToStopOne(message: string): Promise<boolean> {
  asking = true;
  return new Promise((resolve) =>
    showAdmission({
      kind: "cap",
      message,
      decide: (retry) => {
        asking = false;
        showAdmission({ kind: "idle" });
        resolve(retry);
      },
    }),
  );
}

/** Handle the refusal `first` of `call`, trying again as long as admission says to. */
export async function admit<A extends Answer>(first: A, call: () => Promise<A>): Promise<A> {
  let answer = first;
  let rateRetries = 0;
  for (;;) {
    const { status, headers } = answer.response;
    const retryAfter = Number(headers.get("Retry-After"));
    if (status === 503 && retryAfter > 0) {
      await waitFull(Math.min(retryAfter, 300), detailOf(answer.error));
    } else if (status === 429 && limitOf(answer.error) === "user_requests_per_s" && retryAfter > 0 && rateRetries < RATE_RETRIES) {
      rateRetries += 1;
      await new Promise((resolve) => window.setTimeout(resolve, Math.min(retryAfter, 30) * 1000));
    } else if (status === 429 && isSandboxCap(answer.error) && !asking) {
      if (!(await askToStopOne(detailOf(answer.error)))) {
        return answer;
      }
    } else {
      return answer;
    }
    answer = await call();
  }
}

/** `GET /api/sandboxes`: the user's running sandboxes, oldest first. */
export function listMySandboxes(): Promise<Result<{ sandboxes: LiveSandbox[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/sandboxes");
    return data !== undefined ? { ok: true, sandboxes: data } : failure(error, response);
  });
}
