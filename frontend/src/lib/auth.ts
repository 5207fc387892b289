/**
 * Signing up and in (`/api/auth/register`, `/api/auth/login`), through the
 * typed client, for the public pages. Answers as lib/result.ts says, never
 * throws. The signed-in side of `/api/auth/*` is lib/session.ts: apart, so
 * the signed-in pages do not carry these calls in their scripts.
 */
import { api } from "@/api/client";
import { attempt, failure, type Result } from "./result";

export type Credentials = { username: string; password: string };

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
