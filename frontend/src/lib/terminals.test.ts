import { describe, expect, it } from "vitest";
import { endedIn } from "./terminals";

describe("endedIn", () => {
  it("says a terminal has ended when it is not listed or its shell has exited", () => {
    expect(endedIn([{ id: "a", exited: false }], "a")).toBe(false);
    expect(endedIn([{ id: "a", exited: true }], "a")).toBe(true);
    expect(endedIn([{ id: "b", exited: false }], "a")).toBe(true);
    expect(endedIn([], "a")).toBe(true);
  });
});
