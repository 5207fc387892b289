"use client";

import { useCallback, useEffect, useEffectEvent, useState } from "react";
import type { Result } from "@/lib/result";

/**
 * Loads with `load` whenever `key` changes or `reload()` is called, and hands
 * each success to `onLoaded`; a failure's sentence becomes `error` (cleared by
 * the next success). An answer that arrives after `key` changed or a newer
 * load started is dropped, so a slow answer never overwrites a newer one.
 * `key === null` loads nothing (e.g. no file is open).
 *
 * `generation` counts reloads, for effects that must follow them.
 */
export function useReloadable<T extends object>(
  key: string | null,
  load: () => Promise<Result<T>>,
  onLoaded: (loaded: { ok: true } & T) => void,
): { error: string | null; setError: (error: string | null) => void; reload: () => void; generation: number } {
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const loadNow = useEffectEvent(load);
  const loaded = useEffectEvent(onLoaded);

  useEffect(() => {
    if (key === null) {
      return;
    }
    let live = true;
    void loadNow().then((result) => {
      if (!live) {
        return;
      }
      if (result.ok) {
        loaded(result);
        setError(null);
      } else {
        setError(result.message);
      }
    });
    return () => {
      live = false;
    };
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { error, setError, reload, generation };
}
