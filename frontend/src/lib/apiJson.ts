/**
 * JSON calls for resources whose paths the generated client does not type
 * yet, answering as lib/result.ts says. Only lib/<resource>.ts modules use it.
 */
import { attempt, failure, type Result } from "./result";

/** `method url` with an optional JSON body: the parsed answer, or the failure's sentence. */
export function requestJson<T>(method: string, url: string, body?: unknown): Promise<Result<{ data: T }>> {
  return attempt(async () => {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed: unknown = response.status === 204 ? null : await response.json().catch(() => null);
    return response.ok ? { ok: true, data: parsed as T } : failure(parsed, response);
  });
}

/** `?key=value&...` of the non-empty values, or "". */
export function queryString(values: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== "") {
      query.set(key, value);
    }
  }
  const text = query.toString();
  return text === "" ? "" : `?${text}`;
}
