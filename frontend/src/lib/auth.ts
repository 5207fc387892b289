/**
 * Signing up and in (`/api/auth/register`, `/api/auth/login`), through the
 * typed client, for the public pages. Answers as lib/result.ts says, never
 * throws. The signed-in side of `/api/auth/*` is lib/session.ts: apart, so
 * the signed-in pages do not carry these calls in their scripts.
 */
import { api } from "@/api/client";
import { attempt, failure, type Result } from "./result";

export type Credentials = { username: string; password: string };

/**
 * `POST /api/auth/register`: a new account (not signed in yet). `invitation`:
 * the code that lets one sign up while sign-up is closed (left out when empty).
 */
export function register(credentials: Credentials, invitation = ""): Promise<Result> {
  return attempt(async () => {
    const body = invitation === "" ? credentials : { ...credentials, invitation };
    const { error, response } = await api.POST("/api/auth/register", { body });
    return error === undefined && response.ok ? { ok: true } : failure(error, response);
  });
}

/** `GET /api/auth/registration`: whether anyone may sign up (else: with an invitation code). */
export function registrationOpen(): Promise<boolean> {
  return api.GET("/api/auth/registration").then(
    ({ data }) => data?.open ?? true,
    () => true,
  );
}

/** `POST /api/auth/login`: the session cookie is set on success. */
export function signIn(credentials: Credentials): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.POST("/api/auth/login", { body: credentials });
    return response.ok ? { ok: true } : failure(error, response, { 401: "Wrong username or password." });
  });
}
