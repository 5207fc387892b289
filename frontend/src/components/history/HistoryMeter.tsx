"use client";

import { useEffect, useState } from "react";
import { useVisibleInterval } from "@/hooks/useVisibleInterval";
import { formatBytes } from "@/lib/format";
import { historyUsage, type HistoryUsage } from "@/lib/historyUsage";
import { Meter } from "../SandboxStatusBar";

const POLL_MS = 30_000;

/** The user's history quota (versions and snapshots, each content once), beside the workspace's storage. */
export function HistoryMeter() {
  const [usage, setUsage] = useState<HistoryUsage | null>(null);
  const refresh = () =>
    void historyUsage().then((result) => {
      if (result.ok) {
        setUsage(result.usage);
      }
    });
  useEffect(refresh, []);
  useVisibleInterval(refresh, POLL_MS);
  if (usage === null) {
    return null;
  }
  return (
    <Meter
      label="History"
      used={usage.bytes}
      limit={usage.quota_bytes}
      text={`${formatBytes(usage.bytes)} / ${formatBytes(usage.quota_bytes)}`}
    />
  );
}
