import { beforeEach, describe, expect, it } from "vitest";
import { newestUiState, rememberUiState } from "./uiState";

// The unit tests run in Node, which has no sessionStorage: a Map stands in.
class MemoryStorage {
  private items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe("newestUiState", () => {
  beforeEach(() => {
    Object.assign(globalThis, { sessionStorage: new MemoryStorage() });
  });

  it("prefers what this tab saved moments ago (a reload can outrun the save)", () => {
    rememberUiState("w1", { tabs: ["new.py"] }, 1_000);
    expect(newestUiState("w1", { tabs: ["old.py"] }, 5_000)).toEqual({ tabs: ["new.py"] });
  });

  it("takes the server's copy once this tab's is old, or for another workspace", () => {
    rememberUiState("w1", { tabs: ["mine.py"] }, 1_000);
    expect(newestUiState("w1", { tabs: ["server.py"] }, 60_000)).toEqual({ tabs: ["server.py"] });
    expect(newestUiState("w2", { tabs: ["server.py"] }, 2_000)).toEqual({ tabs: ["server.py"] });
  });

  it("takes the server's copy when storage is missing or garbled", () => {
    Object.assign(globalThis, { sessionStorage: undefined });
    expect(newestUiState("w1", { tabs: ["server.py"] })).toEqual({ tabs: ["server.py"] });
    const storage = new MemoryStorage();
    storage.setItem("sandpit.ui.w1", "{not json");
    Object.assign(globalThis, { sessionStorage: storage });
    expect(newestUiState("w1", { tabs: ["server.py"] })).toEqual({ tabs: ["server.py"] });
  });
});
