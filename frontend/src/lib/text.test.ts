import { describe, expect, it } from "vitest";
import { checkPath } from "./files";
import { safeNext } from "./navigation";
import { hasControlCharacter } from "./text";

describe("hasControlCharacter", () => {
  it("finds C0 controls and DEL, anywhere", () => {
    for (const text of ["\u0000", "a\tb", "line\n", "\u001f", "x\u007f"]) {
      expect(hasControlCharacter(text)).toBe(true);
    }
  });

  it("lets printable text through, non-ASCII included", () => {
    for (const text of ["", "data/my file.py", "café ☕", "~!@#$%^&*()_+{}|:<>?", "\u0080"]) {
      expect(hasControlCharacter(text)).toBe(false);
    }
  });

  it("keeps control characters out of paths and return addresses", () => {
    expect(checkPath("a\nb.py")).toBe("A name cannot contain control characters.");
    expect(checkPath("ok/name.py")).toBeNull();
    expect(safeNext("/workspace/?id=1\r\nx")).toBeNull();
    expect(safeNext("/workspace/?id=1")).toBe("/workspace/?id=1");
  });
});
