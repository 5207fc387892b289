/**
 * The session of the signed-in pages (`/api/auth/me`, `/api/auth/logout`),
 * through the typed client. Answers as lib/result.ts says, never throws.
 * Signing up and in is lib/auth.ts.
 */
import { api, type Me } from "@/api/client";
import { attempt, failure, type Result } from "./result";

const requestMe = () => api.GET("/api/auth/me");

/**
 * Whether this browser may be signed in: the server sets a readable hint
 * cookie beside the (httpOnly) session cookie. Without it, asking who is
 * signed in can only answer 401, which the browser would log on the console.
 * A hint, never proof: with it, `GET /api/auth/me` still decides.
 */
export function maySignedIn(): boolean {
  return typeof document !== "undefined" && /(?:^|;\s*)sandpit_signed_in=/.test(document.cookie);
}

/**
 * The signed-in user (`GET /api/auth/me`); a 401 failure when nobody is.
 * `pending`: that request, made already (lib/earlyWorkspace.ts).
 */
export function currentUser(pending?: ReturnType<typeof requestMe>): Promise<Result<{ me: Me }>> {
  return attempt(async () => {
    const { data, error, response } = await (pending ?? requestMe());
    return data !== undefined ? { ok: true, me: data } : failure(error, response);
  });
}

/** `POST /api/auth/logout`: ends the session; already signed out (401) counts as done. */
export function signOut(): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.POST("/api/auth/logout");
    return response.ok || response.status === 401 ? { ok: true } : failure(error, response);
  });
}
