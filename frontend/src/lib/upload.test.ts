import { beforeEach, describe, expect, it, vi } from "vitest";
import type { FileEntry } from "@/api/client";
import { takeDrop, takePicked } from "./drop";
import type { Result } from "./files";
import {
  foldersToOpen,
  joinPath,
  pickedItems,
  readTaken,
  replacedFiles,
  replaceQuestion,
  uploadBatch,
  uploadSummary,
  withoutFiles,
  type UploadBatch,
  type UploadProgress,
} from "./upload";

// The network seam: uploadBatch's two calls, answered by the tests.
const files = vi.hoisted(() => ({
  writeFile: vi.fn<(workspaceId: string, path: string, content: unknown) => Promise<Result<object>>>(),
  createFolder: vi.fn<(workspaceId: string, path: string) => Promise<Result<object>>>(),
}));
vi.mock("./files", () => files);

const item = (path: string) => ({ path, file: new File([path], path.split("/").at(-1) ?? path) });
const entry = (path: string, kind: FileEntry["kind"]): FileEntry => ({ path, kind, size: 1, mtime: 0, escaped: false });

describe("planning an upload", () => {
  const batch: UploadBatch = { files: [item("a.py"), item("data/b.csv"), item("data/c.csv")], folders: ["empty"] };

  it("joins paths onto a folder, or the top", () => {
    expect(joinPath("", "a.py")).toBe("a.py");
    expect(joinPath("src", "data/a.py")).toBe("src/data/a.py");
  });

  it("finds the files that would replace files already there, not folders", () => {
    const known = new Map([
      ["src/a.py", entry("src/a.py", "file")],
      ["src/data", entry("src/data", "dir")],
      ["src/data/c.csv", entry("src/data/c.csv", "file")],
      ["a.py", entry("a.py", "file")],
    ]);
    expect(replacedFiles(batch, "src", known).map((file) => file.path)).toEqual(["a.py", "data/c.csv"]);
    expect(replacedFiles(batch, "", known).map((file) => file.path)).toEqual(["a.py"]);
    expect(replacedFiles(batch, "elsewhere", known)).toEqual([]);
  });

  it("asks before replacing, naming at most five files", () => {
    expect(replaceQuestion([item("a.py")], "src")).toBe("Replace 1 existing file (src/a.py) with the uploaded one?");
    const seven = ["1", "2", "3", "4", "5", "6", "7"].map((name) => item(`${name}.txt`));
    expect(replaceQuestion(seven, "")).toBe(
      "Replace 7 existing files (1.txt, 2.txt, 3.txt, 4.txt, 5.txt and 2 more) with the uploaded ones?",
    );
  });

  it("leaves out the files kept as they are, and keeps the folders", () => {
    const [first, , third] = batch.files;
    const rest = withoutFiles(batch, [first!, third!]);
    expect(rest.files.map((file) => file.path)).toEqual(["data/b.csv"]);
    expect(rest.folders).toEqual(["empty"]);
  });

  it("opens the target folder and the top folders the upload brought", () => {
    expect(foldersToOpen(batch, "src")).toEqual(["src", "src/data"]);
    expect(foldersToOpen(batch, "")).toEqual(["data"]);
    expect(foldersToOpen({ files: [item("x/y/z.txt")], folders: ["w/v"] }, "")).toEqual(["x", "w"]);
  });

  it("takes a picked folder's files with their paths inside it", () => {
    const plain = new File(["1"], "one.txt");
    const inFolder = new File(["2"], "two.txt");
    Object.defineProperty(inFolder, "webkitRelativePath", { value: "picked/sub/two.txt" });
    const list = [plain, inFolder] as unknown as FileList;
    expect(pickedItems(list).files.map((file) => file.path)).toEqual(["one.txt", "picked/sub/two.txt"]);
    expect(pickedItems(null)).toEqual({ files: [], folders: [] });
  });

  it("takes a drop's files at once, and reads them later, without the entries API too", async () => {
    const file = new File(["1"], "one.txt");
    const drop = { items: [{ kind: "file", webkitGetAsEntry: () => null }], files: [file] } as unknown as DataTransfer;
    const taken = takeDrop(drop);
    expect(taken).toEqual({ files: [file] });
    expect(await readTaken(taken)).toEqual({ files: [{ path: "one.txt", file }], folders: [] });
    expect(await readTaken(takePicked(null))).toEqual({ files: [], folders: [] });
  });
});

describe("summing an upload up", () => {
  const batch: UploadBatch = { files: [item("a.py"), item("b.py")], folders: ["empty"] };

  it("counts the files uploaded, and where to", () => {
    expect(uploadSummary(batch, "", [])).toEqual({ kind: "info", text: "Uploaded 2 files." });
    expect(uploadSummary({ files: [item("a.py")], folders: [] }, "src", [])).toEqual({ kind: "info", text: "Uploaded 1 file to src." });
  });

  it("says when only folders were made", () => {
    expect(uploadSummary({ files: [], folders: ["x", "y"] }, "src", [])).toEqual({ kind: "info", text: "Created 2 folders to src." });
  });

  it("lists each failure with the server's reason, and what did go", () => {
    expect(uploadSummary(batch, "src", [{ path: "b.py", message: "Too large." }])).toEqual({
      kind: "error",
      text: "1 item not uploaded (1 file uploaded to src):",
      items: ["b.py: Too large."],
    });
    const failures = [
      { path: "empty", message: "Over quota." },
      { path: "a.py", message: "Over quota." },
      { path: "b.py", message: "Over quota." },
    ];
    expect(uploadSummary(batch, "", failures)).toEqual({
      kind: "error",
      text: "3 items not uploaded:",
      items: ["empty: Over quota.", "a.py: Over quota.", "b.py: Over quota."],
    });
  });
});

describe("uploadBatch", () => {
  beforeEach(() => {
    files.writeFile.mockReset();
    files.createFolder.mockReset();
  });

  it("makes the empty folders, puts every file under the target folder, and reports progress", async () => {
    files.createFolder.mockResolvedValue({ ok: true });
    files.writeFile.mockResolvedValue({ ok: true });
    const progress: UploadProgress[] = [];
    const batch = { files: [item("a.py"), item("data/b.csv")], folders: ["empty"] };
    const failures = await uploadBatch("w1", "src", batch, (step) => progress.push(step));
    expect(failures).toEqual([]);
    expect(files.createFolder.mock.calls).toEqual([["w1", "src/empty"]]);
    expect(files.writeFile.mock.calls.map(([workspace, path, content]) => [workspace, path, content])).toEqual([
      ["w1", "src/a.py", batch.files[0]?.file],
      ["w1", "src/data/b.csv", batch.files[1]?.file],
    ]);
    expect(progress).toEqual([
      { done: 0, total: 3 },
      { done: 1, total: 3 },
      { done: 2, total: 3 },
      { done: 3, total: 3 },
    ]);
  });

  it("goes on past a refused file and answers the failures in the batch's order", async () => {
    files.createFolder.mockResolvedValue({ ok: false, message: "No room.", status: 507 });
    // The first file answers last: the failures still come in listing order.
    files.writeFile.mockImplementation(async (_workspace, path) => {
      if (path === "one.bin") {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { ok: false, message: "Not text.", status: 415 };
      }
      return path === "three.txt" ? { ok: false, message: "Too large.", status: 413 } : { ok: true };
    });
    const batch = { files: [item("one.bin"), item("two.txt"), item("three.txt")], folders: ["f"] };
    const failures = await uploadBatch("w1", "", batch, () => undefined);
    expect(files.writeFile).toHaveBeenCalledTimes(3);
    expect(failures).toEqual([
      { path: "f", message: "No room." },
      { path: "one.bin", message: "Not text." },
      { path: "three.txt", message: "Too large." },
    ]);
  });

  it("keeps at most four files in flight", async () => {
    let inFlight = 0;
    let most = 0;
    files.writeFile.mockImplementation(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight -= 1;
      return { ok: true };
    });
    const batch = { files: Array.from({ length: 10 }, (_, index) => item(`f${index}.txt`)), folders: [] };
    await uploadBatch("w1", "", batch, () => undefined);
    expect(files.writeFile).toHaveBeenCalledTimes(10);
    expect(most).toBe(4);
  });
});
