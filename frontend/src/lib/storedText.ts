/**
 * Reading content the server stored (a file's version, a submitted file) as
 * text. A module of its own, not in lib/result.ts: only the lazily loaded
 * history and review views need it, so it stays out of the first load.
 */
import { attempt, failure, type Result } from "./result";

/**
 * The raw bytes at `url` (a stored file's content) decoded as UTF-8 text; a
 * failed request answers as `failure`, bytes that are not UTF-8 answer 415
 * with `notText`.
 */
export async function textAt(url: string, notText: string): Promise<Result<{ text: string }>> {
  return attempt(async () => {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => null);
      return failure(body, response);
    }
    const bytes = await response.arrayBuffer();
    try {
      return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      return { ok: false, message: notText, status: 415 };
    }
  });
}
