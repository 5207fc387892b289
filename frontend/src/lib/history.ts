/**
 * File history and snapshots (`/api/workspaces/{id}/history`, `/snapshots`,
 * `/deleted-files`, `/api/history/usage`), through the typed client.
 *
 * Every function answers `{ ok: true, ... }` or `{ ok: false, message }`,
 * never throws (see lib/result.ts). Contents come back as raw bytes.
 */
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { encodePath } from "./files";
import { attempt, failure, type Result } from "./result";
import { textAt } from "./storedText";

type Schemas = components["schemas"];
export type Version = Schemas["VersionOut"];
export type Snapshot = Schemas["SnapshotOut"];
export type SnapshotFile = Schemas["SnapshotFileOut"];
export type SnapshotChange = Schemas["SnapshotChange"];
export type Restored = Schemas["RestoreOut"];

const ws = (workspaceId: string) => ({ workspace_id: workspaceId });

/** The versions of `path`, newest first (also for a deleted file). */
export function fileHistory(workspaceId: string, path: string): Promise<Result<{ versions: Version[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/history", {
      params: { path: ws(workspaceId), query: { path } },
    });
    return data !== undefined ? { ok: true, versions: data } : failure(error, response);
  });
}

/** Files with history that are not in the workspace now (each one's latest version). */
export function deletedFiles(workspaceId: string): Promise<Result<{ versions: Version[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/deleted-files", {
      params: { path: ws(workspaceId) },
    });
    return data !== undefined ? { ok: true, versions: data } : failure(error, response);
  });
}

/** Raw bytes from a history or snapshot URL, decoded as UTF-8 text (binary shown as a note). */
function text(url: string): Promise<Result<{ text: string }>> {
  return textAt(url, "This version is not text, so it cannot be shown here.");
}

/** The content of one version. */
export function versionText(workspaceId: string, versionId: string): Promise<Result<{ text: string }>> {
  return text(`/api/workspaces/${encodeURIComponent(workspaceId)}/history/${encodeURIComponent(versionId)}`);
}

/** Put a version back at its path; the state before becomes a snapshot. */
export function restoreVersion(workspaceId: string, versionId: string): Promise<Result<{ restored: Restored }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/history/{version_id}/restore", {
      params: { path: { ...ws(workspaceId), version_id: versionId } },
    });
    return data !== undefined ? { ok: true, restored: data } : failure(error, response);
  });
}

export function listSnapshots(workspaceId: string): Promise<Result<{ snapshots: Snapshot[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/snapshots", {
      params: { path: ws(workspaceId) },
    });
    return data !== undefined ? { ok: true, snapshots: data } : failure(error, response);
  });
}

export function createSnapshot(workspaceId: string, label: string): Promise<Result<{ snapshot: Snapshot }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/snapshots", {
      params: { path: ws(workspaceId) },
      body: { label },
    });
    return data !== undefined ? { ok: true, snapshot: data } : failure(error, response);
  });
}

export function snapshotFiles(workspaceId: string, snapshotId: string): Promise<Result<{ files: SnapshotFile[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/snapshots/{snapshot_id}/files", {
      params: { path: { ...ws(workspaceId), snapshot_id: snapshotId } },
    });
    return data !== undefined ? { ok: true, files: data } : failure(error, response);
  });
}

/** The files that differ between a snapshot and the workspace now. */
export function compareSnapshot(workspaceId: string, snapshotId: string): Promise<Result<{ changes: SnapshotChange[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/snapshots/{snapshot_id}/compare", {
      params: { path: { ...ws(workspaceId), snapshot_id: snapshotId } },
    });
    return data !== undefined ? { ok: true, changes: data } : failure(error, response);
  });
}

/** A file's content as a snapshot holds it. */
export function snapshotFileText(workspaceId: string, snapshotId: string, path: string): Promise<Result<{ text: string }>> {
  const base = `/api/workspaces/${encodeURIComponent(workspaceId)}/snapshots/${encodeURIComponent(snapshotId)}`;
  return text(`${base}/files/${encodePath(path)}`);
}

/**
 * The URL that downloads a snapshot's files as a zip (the workspace export's
 * layout), streamed by the server; the session cookie authenticates it.
 */
export function snapshotExportUrl(workspaceId: string, snapshotId: string): string {
  return `/api/workspaces/${encodeURIComponent(workspaceId)}/snapshots/${encodeURIComponent(snapshotId)}/export`;
}

/** Restore the whole workspace from a snapshot, or only `path`. */
export function restoreSnapshot(workspaceId: string, snapshotId: string, path?: string): Promise<Result<{ restored: Restored }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/snapshots/{snapshot_id}/restore", {
      params: { path: { ...ws(workspaceId), snapshot_id: snapshotId }, query: path === undefined ? {} : { path } },
    });
    return data !== undefined ? { ok: true, restored: data } : failure(error, response);
  });
}
