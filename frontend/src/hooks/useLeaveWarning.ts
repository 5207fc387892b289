"use client";

import { useEffect } from "react";

/** While `unsaved`, the browser asks before the page is left or reloaded (edits the server does not have yet). */
export function useLeaveWarning(unsaved: boolean) {
  useEffect(() => {
    if (!unsaved) {
      return;
    }
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [unsaved]);
}
