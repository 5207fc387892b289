"use client";

import type { Region } from "@/hooks/useRegionFocus";

const REGION_TABS: [Region, string][] = [
  ["tree", "Files"],
  ["editor", "Editor"],
  ["console", "Console"],
  ["terminal", "Terminal"],
];

/** On a narrow screen: which region fills the IDE (the others stay mounted, hidden). */
export default function RegionTabs({ region, onSelect }: { region: Region; onSelect: (region: Region) => void }) {
  return (
    <div role="tablist" aria-label="Panels" className="flex border-b border-line bg-surface-muted text-sm">
      {REGION_TABS.map(([value, label]) => (
        <button
          key={value}
          type="button"
          role="tab"
          aria-selected={region === value}
          onClick={() => onSelect(value)}
          className={`flex-1 py-2 font-medium ${
            region === value ? "bg-surface text-fg shadow-[inset_0_-2px_0_var(--app-accent)]" : "text-fg-muted hover:text-fg"
          }`}
        >
          {label}
        </button>
      ))}
    </div>
  );
}
