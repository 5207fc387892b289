/**
 * The session: who is signed in, signing up, in and out (`/api/auth/*`),
 * through the typed client. Answers as lib/result.ts says, never throws.
 */
import { api, type Me } from "@/api/client";
import { attempt, failure, type Result } from "./result";

export type Credentials = { username: string; password: string };

const requestMe = () => api.GET("/api/auth/me");

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

/** `POST /api/auth/register`: a new account (not signed in yet). */
export function register(credentials: Credentials): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.POST("/api/auth/register", { body: credentials });
    return error === undefined && response.ok ? { ok: true } : failure(error, response);
  });
}

/** `POST /api/auth/login`: the session cookie is set on success. */
export function signIn(credentials: Credentials): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.POST("/api/auth/login", { body: credentials });
    return response.ok ? { ok: true } : failure(error, response, { 401: "Wrong username or password." });
  });
}

/** `POST /api/auth/logout`: ends the session; already signed out (401) counts as done. */
export function signOut(): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.POST("/api/auth/logout");
    return response.ok || response.status === 401 ? { ok: true } : failure(error, response);
  });
}
