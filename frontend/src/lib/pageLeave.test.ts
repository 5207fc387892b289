import { describe, expect, it } from "vitest";
import { onPageLeave } from "./pageLeave";

// Node has EventTarget but no page: stand-ins for the window and the document.
function page() {
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: "visible" as DocumentVisibilityState });
  const hide = () => {
    doc.visibilityState = "hidden";
    doc.dispatchEvent(new Event("visibilitychange"));
  };
  const show = () => {
    doc.visibilityState = "visible";
    doc.dispatchEvent(new Event("visibilitychange"));
  };
  const leave = () => win.dispatchEvent(new Event("pagehide"));
  return { win, doc, hide, show, leave };
}

describe("onPageLeave", () => {
  it("calls back when the page is hidden and when it is left, not when it is shown", () => {
    const { win, doc, hide, show, leave } = page();
    let calls = 0;
    onPageLeave(() => (calls += 1), win, doc);
    show();
    expect(calls).toBe(0);
    hide();
    expect(calls).toBe(1);
    show();
    leave();
    expect(calls).toBe(2);
  });

  it("stops calling back once removed", () => {
    const { win, doc, hide, leave } = page();
    let calls = 0;
    const remove = onPageLeave(() => (calls += 1), win, doc);
    remove();
    hide();
    leave();
    expect(calls).toBe(0);
  });
});
