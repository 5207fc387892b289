"use client";

import { useCallback, useState } from "react";
import type { Region } from "./useRegionFocus";
import { useNarrow } from "./useNarrow";

/**
 * The narrow-screen layout's state: whether the window is narrow (then the
 * IDE shows one region at a time, chosen with RegionTabs) and which region
 * is shown. `showRegion` is RegionTabs' choice: choosing the terminal calls
 * `mountTerminal` first, as the terminal panel is made only when first
 * wanted. `setRegion` is for the IDE's own moves (a run shows the console,
 * opening a file the editor).
 */
export function useRegions(mountTerminal: () => void): {
  narrow: boolean;
  region: Region;
  setRegion: (region: Region) => void;
  showRegion: (region: Region) => void;
} {
  const narrow = useNarrow();
  const [region, setRegion] = useState<Region>("editor");
  const showRegion = useCallback(
    (next: Region) => {
      if (next === "terminal") {
        mountTerminal();
      }
      setRegion(next);
    },
    [mountTerminal],
  );
  return { narrow, region, setRegion, showRegion };
}
