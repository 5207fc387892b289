"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { Sandbox, Usage } from "@/api/client";
import { endSandbox, getSandbox, getUsage } from "@/lib/sandbox";
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
    const result = await getSandbox(workspaceId);
    busy.current = false;
    // A failure leaves the last state shown; the next poll tries again.
    if (result.ok) {
      setSandbox(result.sandbox);
    }
  }, [workspaceId]);

  const loadUsage = useCallback(async () => {
    const result = await getUsage(workspaceId);
    if (result.ok) {
      setUsage(result.usage);
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
    // Whatever the answer, the status shows what happened.
    await endSandbox(workspaceId);
    refresh();
  }, [workspaceId, refresh]);

  // The first look waits for a quiet moment: opening the IDE comes first.
  useEffect(() => {
    const idle = window.requestIdleCallback(refresh, { timeout: 1000 });
    return () => window.cancelIdleCallback(idle);
  }, [refresh]);

  return { sandbox, usage, refresh, restart };
}
