/**
 * The administrators' API (`/api/admin/...`): users and their usage, live
 * sandboxes and stopping one, admission and its refusals, the command log.
 * Answers as lib/result.ts says, never throws. Only the admin page uses it.
 */
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { attempt, failure, type Result } from "./result";

type Schemas = components["schemas"];
export type AdminUser = Schemas["AdminUserOut"];
export type AdminSandbox = Schemas["AdminSandboxOut"];
export type Admission = Schemas["AdmissionOut"];
export type CommandLogEntry = Schemas["CommandLogEntryOut"];

/** A page of users by name, with their usage; `nextOffset` null on the last page. */
export function listUsers(offset: number): Promise<Result<{ users: AdminUser[]; nextOffset: number | null }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/admin/users", { params: { query: { offset } } });
    return data !== undefined
      ? { ok: true, users: data.users, nextOffset: data.next_offset ?? null }
      : failure(error, response);
  });
}

/** Every sandbox running now, with its use and owner. */
export function listSandboxes(): Promise<Result<{ sandboxes: AdminSandbox[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/admin/sandboxes");
    return data !== undefined ? { ok: true, sandboxes: data } : failure(error, response);
  });
}

/** End a workspace's sandbox (404: none runs any more). */
export function stopSandbox(workspaceId: string): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.DELETE("/api/admin/sandboxes/{workspace_id}", {
      params: { path: { workspace_id: workspaceId } },
    });
    return response.ok ? { ok: true } : failure(error, response);
  });
}

/** The host's budget and use, and the newest refusals (of one status when given). */
export function getAdmission(status: 429 | 503 | null): Promise<Result<{ admission: Admission }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/admin/admission", {
      params: { query: status === null ? {} : { status } },
    });
    return data !== undefined ? { ok: true, admission: data } : failure(error, response);
  });
}

export type CommandLogFilters = { username?: string; workspace_id?: string; before?: number };

/** Command lines typed in terminals, newest first; `nextBefore` for the older page. */
export function commandLog(
  filters: CommandLogFilters,
): Promise<Result<{ entries: CommandLogEntry[]; nextBefore: number | null }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/admin/command-log", { params: { query: filters } });
    return data !== undefined
      ? { ok: true, entries: data.entries, nextBefore: data.next_before ?? null }
      : failure(error, response);
  });
}
