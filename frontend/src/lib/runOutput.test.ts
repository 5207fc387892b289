import { describe, expect, it } from "vitest";
import { interleave } from "./runOutput";

const run = {
  stdout: "before\nafter\n",
  stderr: "warn\n",
  typed: "",
  images: ["/a.png", "/b.png"],
};

describe("interleave", () => {
  it("puts each plot where the segments say it was shown", () => {
    const segments = [
      { stream: "stdout" as const, end: 7 },
      { stream: "image" as const, end: 1 },
      { stream: "stderr" as const, end: 5 },
      { stream: "stdout" as const, end: 13 },
      { stream: "image" as const, end: 2 },
    ];
    expect(interleave({ ...run, segments })).toEqual([
      { stream: "stdout", text: "before\n" },
      { stream: "image", url: "/a.png" },
      { stream: "stderr", text: "warn\n" },
      { stream: "stdout", text: "after\n" },
      { stream: "image", url: "/b.png" },
    ]);
  });

  it("without segments: text by stream, then the plots", () => {
    expect(interleave({ ...run, segments: null })).toEqual([
      { stream: "stdout", text: "before\nafter\n" },
      { stream: "stderr", text: "warn\n" },
      { stream: "image", url: "/a.png" },
      { stream: "image", url: "/b.png" },
    ]);
  });

  it("counts code points as the server does", () => {
    const segments = [
      { stream: "stdout" as const, end: 2 },
      { stream: "image" as const, end: 1 },
    ];
    expect(interleave({ stdout: "😀é!", stderr: "", typed: "", images: ["/a.png"], segments })).toEqual([
      { stream: "stdout", text: "😀é" },
      { stream: "image", url: "/a.png" },
      { stream: "stdout", text: "!" },
    ]);
  });
});
