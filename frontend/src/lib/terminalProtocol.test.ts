import { describe, expect, it } from "vitest";
import {
  ACK_EAGER_BYTES,
  ackMessage,
  AckWindow,
  isFinalClose,
  ReconnectPolicy,
  resizeMessage,
  RETRY_MAX_MS,
  retryDelay,
  stepForClose,
  stepForMessage,
} from "./terminalProtocol";

describe("AckWindow", () => {
  it("waits to acknowledge small output, and then acknowledges the running total once", () => {
    const acks = new AckWindow();
    expect(acks.add(100)).toBe(false);
    expect(acks.add(50)).toBe(false);
    expect(acks.take()).toBe(150);
    // Nothing new rendered: no second ack for the same bytes.
    expect(acks.take()).toBeNull();
    expect(acks.add(10)).toBe(false);
    expect(acks.take()).toBe(160);
  });

  it("asks for an ack at once when the unacknowledged output reaches the eager threshold", () => {
    const acks = new AckWindow();
    expect(acks.add(ACK_EAGER_BYTES - 1)).toBe(false);
    expect(acks.add(1)).toBe(true);
    expect(acks.take()).toBe(ACK_EAGER_BYTES);
    // Counted from the last ack, not from the start of the connection.
    expect(acks.add(ACK_EAGER_BYTES - 1)).toBe(false);
    expect(acks.add(1)).toBe(true);
    expect(acks.take()).toBe(2 * ACK_EAGER_BYTES);
  });

  it("has nothing to acknowledge before any output", () => {
    expect(new AckWindow().take()).toBeNull();
  });

  it("speaks the contract's JSON", () => {
    expect(JSON.parse(ackMessage(1234))).toEqual({ type: "ack", bytes: 1234 });
    expect(JSON.parse(resizeMessage(80, 24))).toEqual({ type: "resize", cols: 80, rows: 24 });
  });
});

describe("stepForMessage", () => {
  it("resets the screen on resync: a fresh replay follows", () => {
    expect(stepForMessage('{"type": "resync"}')).toEqual({ kind: "reset" });
  });

  it("finishes on exit, with a line giving the code", () => {
    expect(stepForMessage('{"type": "exit", "code": 3}')).toEqual({
      kind: "finish",
      state: { kind: "exited", code: 3 },
      note: "[The shell exited with code 3.]",
    });
    expect(stepForMessage('{"type": "exit"}')).toEqual({
      kind: "finish",
      state: { kind: "exited", code: null },
      note: "[The shell exited.]",
    });
  });

  it("finishes on ended without a line (the server wrote why already), with its message or detail", () => {
    expect(stepForMessage('{"type": "ended", "reason": "sandbox", "message": "Stopped."}')).toEqual({
      kind: "finish",
      state: { kind: "ended", message: "Stopped." },
      note: null,
    });
    expect(stepForMessage('{"type": "ended", "detail": "Gone."}')).toMatchObject({ state: { kind: "ended", message: "Gone." } });
    expect(stepForMessage('{"type": "ended"}')).toMatchObject({ state: { kind: "ended", message: "The terminal has ended." } });
  });

  it("passes an error's message on", () => {
    expect(stepForMessage('{"type": "error", "message": "Slow down."}')).toEqual({ kind: "notice", message: "Slow down." });
    expect(stepForMessage('{"type": "error", "detail": "Too fast."}')).toEqual({ kind: "notice", message: "Too fast." });
    expect(stepForMessage('{"type": "error"}')).toEqual({ kind: "none" });
  });

  it("takes no step for anything it does not know, and never throws", () => {
    for (const text of ["not json", "42", "null", '{"type": "hello"}', "[]", '{"type": "exit", "code": 3']) {
      expect(stepForMessage(text)).toEqual({ kind: "none" });
    }
  });
});

describe("closing", () => {
  it("gives up on refusals (4400-4499, policy violation) and retries the rest", () => {
    for (const code of [1008, 4401, 4403, 4404, 4429, 4499]) {
      expect(isFinalClose(code)).toBe(true);
    }
    for (const code of [1000, 1001, 1006, 4500, 4503]) {
      expect(isFinalClose(code)).toBe(false);
      expect(stepForClose(code, "")).toBeNull();
    }
  });

  it("ends with the server's reason, or a default one", () => {
    expect(stepForClose(4404, "No such terminal.")).toEqual({
      kind: "finish",
      state: { kind: "ended", message: "No such terminal." },
      note: "[No such terminal.]",
    });
    expect(stepForClose(4401, "")).toMatchObject({ state: { kind: "ended", message: "The server closed this terminal." } });
  });
});

describe("reconnecting", () => {
  it("doubles the wait from half a second up to ten, with ±20% jitter", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelay(attempt, 0.5))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(retryDelay(1, 0)).toBeCloseTo(400);
    expect(retryDelay(1, 0.999_999)).toBeCloseTo(600);
    expect(retryDelay(50, 0.999_999)).toBeCloseTo(RETRY_MAX_MS * 1.2);
  });

  it("connects, then after a loss retries with a growing attempt count and resets the screen on the reconnect", () => {
    const policy = new ReconnectPolicy();
    expect(policy.connecting(1000)).toEqual({ kind: "connecting" });
    // The first connection: nothing on the screen to replace.
    expect(policy.opened()).toBe(false);

    expect(policy.lost(5000, 0.5)).toEqual({ delay: 500, state: { kind: "reconnecting", attempt: 1, at: 5500 } });
    expect(policy.connecting(5500)).toEqual({ kind: "reconnecting", attempt: 1, at: 5500 });
    expect(policy.lost(6000, 0.5)).toEqual({ delay: 1000, state: { kind: "reconnecting", attempt: 2, at: 7000 } });

    // Back: the replay repaints the screen, so it is reset first; the backoff starts over.
    expect(policy.opened()).toBe(true);
    expect(policy.connecting(8000)).toEqual({ kind: "reconnecting", attempt: 0, at: 8000 });
    expect(policy.lost(9000, 0.5).delay).toBe(500);
  });

  it("counts a first connection that never opened as a reconnect", () => {
    const policy = new ReconnectPolicy();
    policy.connecting(0);
    expect(policy.lost(100, 0.5).state).toEqual({ kind: "reconnecting", attempt: 1, at: 600 });
    expect(policy.opened()).toBe(false);
  });
});
