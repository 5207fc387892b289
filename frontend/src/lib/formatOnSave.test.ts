import { afterEach, describe, expect, it, vi } from "vitest";
import { withDeadline } from "./formatOnSave";

describe("withDeadline", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answers when the work is done, before the deadline", async () => {
    let lateSeen: boolean | null = null;
    await withDeadline(async (late) => {
      lateSeen = late();
    }, 1000);
    expect(lateSeen).toBe(false);
  });

  it("answers at the deadline when the work never ends, and tells the work it is late", async () => {
    vi.useFakeTimers();
    let late: () => boolean = () => false;
    let answered = false;
    const done = withDeadline((isLate) => {
      late = isLate;
      return new Promise(() => undefined);
    }, 1000);
    void done.then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(answered).toBe(false);
    expect(late()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(answered).toBe(true);
    expect(late()).toBe(true);
  });

  it("answers when the work fails", async () => {
    await expect(withDeadline(() => Promise.reject(new Error("no server")), 1000)).resolves.toBeUndefined();
  });
});
