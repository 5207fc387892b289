/**
 * How every `lib/<resource>.ts` answers: `{ ok: true, ... }` or
 * `{ ok: false, message, status }` with a sentence for people (the server's
 * `detail`), never a throw. `status` is the HTTP status, 0 when the server
 * could not be reached.
 */
import { errorMessage, NETWORK_ERROR } from "@/api/client";

export type Failure = { ok: false; message: string; status: number };
export type Result<T = object> = ({ ok: true } & T) | Failure;

/** `call`'s answer, or the network failure when it threw (offline, server down). */
export async function attempt<T>(call: () => Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await call();
  } catch {
    return { ok: false, message: NETWORK_ERROR, status: 0 };
  }
}

/** A failed call's answer: the sentence for its error body and response (`fallbacks` by status). */
export function failure(error: unknown, response: Response, fallbacks: Partial<Record<number, string>> = {}): Failure {
  return { ok: false, message: errorMessage(error, response, fallbacks), status: response.status };
}
