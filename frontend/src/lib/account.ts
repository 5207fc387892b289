/**
 * The signed-in user's own account (`DELETE /api/auth/me`), through the typed
 * client. Answers as lib/result.ts says, never throws.
 */
import { api } from "@/api/client";
import { attempt, failure, type Result } from "./result";

/**
 * Delete the account and everything of it (workspaces, runs, plots, terminals).
 * The password is asked again; a wrong one is a 403 failure.
 */
export function deleteAccount(password: string): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.DELETE("/api/auth/me", { body: { password } });
    return response.ok ? { ok: true } : failure(error, response, { 403: "That password is wrong; nothing was deleted." });
  });
}
