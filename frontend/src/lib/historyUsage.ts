/**
 * The user's history quota (`GET /api/history/usage`), apart from lib/history.ts
 * so the status bar's meter loads this alone and not the whole history client.
 */
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { attempt, failure, type Result } from "./result";

export type HistoryUsage = components["schemas"]["HistoryUsage"];

/** How much of the user's history quota is used. */
export function historyUsage(): Promise<Result<{ usage: HistoryUsage }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/history/usage");
    return data !== undefined ? { ok: true, usage: data } : failure(error, response);
  });
}
