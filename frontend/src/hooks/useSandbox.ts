"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { api, type Sandbox, type Usage } from "@/api/client";
import { useVisibleInterval } from "./useVisibleInterval";

const SANDBOX_POLL_MS = 3000;
const USAGE_POLL_MS = 15000;

/**
 * The sandbox's use against its limits (`GET .../sandbox`, every 3 s while
 * visible) and the workspace's storage against its quota (`GET .../usage`,
 * less often). `refresh()` asks for both at once, after a run for example.
 */
export function useSandbox(workspaceId: string) {
  const [sandbox, setSandbox] = useState<Sandbox | null>(null);
  const [usage, setUsage] = useState<Usage | null>(null);
  const busy = useRef(false);

  const loadSandbox = useCallback(async () => {
    if (busy.current) {
      return;
    }
    busy.current = true;
    try {
      const { data } = await api.GET("/api/workspaces/{workspace_id}/sandbox", {
        params: { path: { workspace_id: workspaceId } },
      });
      if (data !== undefined) {
        setSandbox(data);
      }
    } catch {
      // Shown as stale; the next poll tries again.
    } finally {
      busy.current = false;
    }
  }, [workspaceId]);

  const loadUsage = useCallback(async () => {
    try {
      const { data } = await api.GET("/api/workspaces/{workspace_id}/usage", {
        params: { path: { workspace_id: workspaceId } },
      });
      if (data !== undefined) {
        setUsage(data);
      }
    } catch {
      // As above.
    }
  }, [workspaceId]);

  useVisibleInterval(() => void loadSandbox(), SANDBOX_POLL_MS);
  useVisibleInterval(() => void loadUsage(), USAGE_POLL_MS);

  const refresh = useCallback(() => {
    void loadSandbox();
    void loadUsage();
  }, [loadSandbox, loadUsage]);

  /** End the sandbox (`DELETE .../sandbox`); the next run or terminal starts a fresh one. */
  const restart = useCallback(async () => {
    try {
      await api.DELETE("/api/workspaces/{workspace_id}/sandbox", {
        params: { path: { workspace_id: workspaceId } },
      });
    } catch {
      // The status poll shows what happened.
    }
    refresh();
  }, [workspaceId, refresh]);

  // The first look waits for a quiet moment: opening the IDE comes first.
  useEffect(() => {
    const idle = window.requestIdleCallback(refresh, { timeout: 1000 });
    return () => window.cancelIdleCallback(idle);
  }, [refresh]);

  return { sandbox, usage, refresh, restart };
}
