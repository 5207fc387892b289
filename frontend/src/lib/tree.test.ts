import { describe, expect, it } from "vitest";
import type { FileEntry } from "@/api/client";
import { ancestors, baseName, buildTree, isWithin, parentOf, renamedPath, visibleRows, type TreeNode } from "./tree";

const file = (path: string, size = 1, mtime = 10): FileEntry => ({ path, kind: "file", size, mtime, escaped: false });
const dir = (path: string, mtime = 20): FileEntry => ({ path, kind: "dir", size: 0, mtime, escaped: false });

/** The tree as nested [path, children] pairs: what a test states value for value. */
function shape(nodes: readonly TreeNode[]): unknown[] {
  return nodes.map((node) => (node.kind === "dir" ? [node.path, shape(node.children)] : node.path));
}

describe("buildTree", () => {
  it("puts folders first, then files, each in natural order", () => {
    const tree = buildTree([file("file10.py"), file("b.py"), dir("src"), file("file2.py"), dir("A"), file("a.py")]);
    expect(shape(tree)).toEqual([
      ["A", []],
      ["src", []],
      "a.py",
      "b.py",
      "file2.py",
      "file10.py",
    ]);
  });

  it("makes up the folders that only appear as a file's parent", () => {
    const tree = buildTree([file("a/b/c.py"), file("a/d.txt")]);
    expect(shape(tree)).toEqual([["a", [["a/b", ["a/b/c.py"]], "a/d.txt"]]]);
    const a = tree[0];
    expect(a).toMatchObject({ name: "a", kind: "dir", size: 0, mtime: 0 });
  });

  it("keeps a listed folder's mtime and a file's size, whatever the order of the listing", () => {
    const tree = buildTree([file("data/x.csv", 42, 7), dir("data", 99)]);
    expect(tree).toHaveLength(1);
    expect(tree[0]).toMatchObject({ name: "data", path: "data", mtime: 99 });
    expect(tree[0]?.children).toEqual([{ name: "x.csv", path: "data/x.csv", kind: "file", size: 42, mtime: 7, children: [] }]);
  });

  it("answers an empty tree for an empty listing", () => {
    expect(buildTree([])).toEqual([]);
  });
});

describe("visibleRows", () => {
  const tree = buildTree([file("a/b/c.py"), file("a/d.txt"), file("top.py")]);

  it("shows only the top level when nothing is expanded", () => {
    expect(visibleRows(tree, new Set()).map((row) => [row.node.path, row.depth])).toEqual([
      ["a", 0],
      ["top.py", 0],
    ]);
  });

  it("shows the children of expanded folders, depth-first, with their depth", () => {
    expect(visibleRows(tree, new Set(["a", "a/b"])).map((row) => [row.node.path, row.depth])).toEqual([
      ["a", 0],
      ["a/b", 1],
      ["a/b/c.py", 2],
      ["a/d.txt", 1],
      ["top.py", 0],
    ]);
  });

  it("hides what is inside a collapsed folder even when the inner one is expanded", () => {
    expect(visibleRows(tree, new Set(["a/b"])).map((row) => row.node.path)).toEqual(["a", "top.py"]);
  });
});

describe("paths", () => {
  it("splits a path into parent and base name", () => {
    expect(parentOf("a/b/c.py")).toBe("a/b");
    expect(parentOf("c.py")).toBe("");
    expect(baseName("a/b/c.py")).toBe("c.py");
    expect(baseName("c.py")).toBe("c.py");
  });

  it("knows what is within a folder, and not a sibling with the same prefix", () => {
    expect(isWithin("src/a.py", "src")).toBe(true);
    expect(isWithin("src", "src")).toBe(true);
    expect(isWithin("src2/a.py", "src")).toBe(false);
  });

  it("renames paths within the renamed folder only", () => {
    expect(renamedPath("old/x/y.py", "old", "new")).toBe("new/x/y.py");
    expect(renamedPath("old", "old", "new")).toBe("new");
    expect(renamedPath("older/y.py", "old", "new")).toBe("older/y.py");
  });

  it("lists the folders on the way to a path, outermost first", () => {
    expect(ancestors("a/b/c.py")).toEqual(["a", "a/b"]);
    expect(ancestors("c.py")).toEqual([]);
  });
});
