/**
 * Calls `onLeave` when the page is hidden (another tab, a minimised window, a
 * locked phone) or left (reload, navigation, close): the last moments in
 * which a page can still hand over unsaved state. Browsers do not agree on
 * which of the two events a leave sends (a mobile browser may send only
 * `visibilitychange`; a reload sends both), so both are listened to, and
 * `onLeave` must be safe to call twice in a row.
 *
 * Returns the function that removes both listeners. `win` and `doc` are the
 * page's own unless a caller (a unit test) passes stand-ins.
 */
export function onPageLeave(
  onLeave: () => void,
  win: Pick<Window, "addEventListener" | "removeEventListener"> = window,
  doc: Pick<Document, "addEventListener" | "removeEventListener" | "visibilityState"> = document,
): () => void {
  const onVisibility = () => {
    if (doc.visibilityState === "hidden") {
      onLeave();
    }
  };
  const onPageHide = () => onLeave();
  doc.addEventListener("visibilitychange", onVisibility);
  win.addEventListener("pagehide", onPageHide);
  return () => {
    doc.removeEventListener("visibilitychange", onVisibility);
    win.removeEventListener("pagehide", onPageHide);
  };
}
