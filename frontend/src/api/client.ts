/**
 * The one API client, typed by the generated `schema.d.ts`.
 *
 * Same origin (`baseUrl: ""`): the production build is served by the API server
 * itself, and `next dev` proxies /api there. The session lives in an httpOnly
 * cookie set by `POST /api/auth/login`, so requests carry it with
 * `credentials: "same-origin"` and no token is ever stored in JavaScript.
 *
 * Everything else in this folder is generated; keep this file thin.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

type JsonOf<T> = T extends { content: { "application/json": infer B } } ? B : never;

/** The signed-in user, as `GET /api/auth/me` returns it. */
export type Me = JsonOf<paths["/api/auth/me"]["get"]["responses"][200]>;
/** One item of `GET /api/workspaces`. */
export type Workspace = JsonOf<paths["/api/workspaces"]["get"]["responses"][200]>[number];
/** One item of `GET /api/workspaces/{workspace_id}/files`. */
export type FileEntry = JsonOf<paths["/api/workspaces/{workspace_id}/files"]["get"]["responses"][200]>[number];

type Schemas = components["schemas"];
/** A workspace with its saved IDE state (`GET` / `PATCH` / `POST .../open`). */
export type WorkspaceDetail = Schemas["WorkspaceDetail"];
/** A run, finished or not (`GET /api/runs/{run_id}`). */
export type Run = Schemas["RunOut"];
/** A run in a list: no output (the run's own record has it). */
export type RunSummary = Schemas["RunSummary"];
export type RunStatus = Run["status"];
/** The workspace's sandbox: use against limits, and why the last one ended. */
export type Sandbox = Schemas["SandboxOut"];
/** Storage used by a workspace against its quota. */
export type Usage = Schemas["Usage"];

export type RunLimits = Schemas["RunLimitsOut"];

const STATUS_MESSAGES: Record<number, string> = {
  401: "You are not signed in, or your session has ended.",
  403: "You are not allowed to do that.",
  404: "Not found.",
  409: "That conflicts with what is there now.",
  413: "That is too large.",
  415: "That kind of content is not accepted here.",
  422: "Some of what was sent is not valid.",
  429: "Too many requests. Please wait a moment and try again.",
  503: "Sandboxes are not available right now. Please try again later.",
};

/**
 * A sentence for a person, from a failed call's error body and response.
 *
 * The server answers every error it declares with `{"detail": "<sentence>"}`
 * (a 422 adds the structured `errors`); a bare FastAPI 422 list,
 * `{"detail": [{"loc": [...], "msg": "..."}, ...]}`, becomes "password: String
 * should have at least 8 characters". Anything else falls back to
 * `fallbacks[status]`, then to a generic message for the status (a 503 when
 * this host cannot run sandboxes, say), then to the status itself.
 */
export function errorMessage(
  error: unknown,
  response?: Response,
  fallbacks: Partial<Record<number, string>> = {},
): string {
  const detail = isRecord(error) ? error.detail : undefined;
  if (typeof detail === "string" && detail.trim() !== "") {
    return detail;
  }
  if (Array.isArray(detail)) {
    const lines = detail.map(validationLine).filter((line) => line !== "");
    if (lines.length > 0) {
      return lines.join(" ");
    }
  }
  const status = response?.status ?? 0;
  if (status >= 500 && fallbacks[status] === undefined) {
    return "The server had a problem. Please try again in a moment.";
  }
  return fallbacks[status] ?? STATUS_MESSAGES[status] ?? `The request failed (HTTP ${status}).`;
}

/** The message for a request that never got an answer (offline, server down). */
export const NETWORK_ERROR = "Cannot reach the server. Check your connection and try again.";

function validationLine(item: unknown): string {
  if (!isRecord(item) || typeof item.msg !== "string") {
    return "";
  }
  // loc is like ["body", "password"]; the first element says where, not what.
  const loc = Array.isArray(item.loc) ? item.loc.slice(1) : [];
  const field = loc.filter((part) => typeof part === "string").join(".");
  const msg = item.msg.replace(/^Value error, /, "");
  const sentence = field === "" ? msg : `${field}: ${msg}`;
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
