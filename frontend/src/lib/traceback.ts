/**
 * Places in a workspace named by program output: Python's traceback lines
 * (`File "/app/x.py", line 7`) and the `path:line[:column]` form of linters,
 * pytest and compilers (`x.py:7:5`). The run console and the terminal turn
 * them into links that open the file at that line. Pure: no DOM.
 *
 * Programs run with the workspace at `/app` as their working directory, so
 * `/app/x.py` and `x.py` both name the workspace file `x.py`; a path outside
 * `/app` (Python's own library) names nothing here.
 */

/** A place in a workspace file: 1-based line, and column when given. */
export type Location = { path: string; line: number; column: number | null };

/** What turns places into links: which workspace files exist, and how to open a place. */
export type PlaceLinks = { exists: (path: string) => boolean; open: (place: Location) => void };

/** A run of text, and the workspace place it names, if it names one. */
export type Linked = { text: string; location: Location | null };

const WORKSPACE_ROOT = "/app/";
// `File "…", line N` (a traceback frame), or a path ending in .py followed by :line[:column].
const PLACE = /File "([^"\n]+)", line (\d+)|((?:\/|\.\/)?[\w.\-/]*[\w-]\.pyw?):(\d+)(?::(\d+))?/g;

/** The workspace path `raw` names (`/app/x.py` or `x.py`, `./x.py`), or null for one outside it. */
export function workspacePath(raw: string): string | null {
  let path = raw;
  if (path.startsWith(WORKSPACE_ROOT)) {
    path = path.slice(WORKSPACE_ROOT.length);
  } else if (path.startsWith("/")) {
    return null;
  }
  path = path.replace(/^(\.\/)+/, "");
  if (path === "" || path.split("/").some((part) => part === ".." || part === "." || part === "")) {
    return null;
  }
  return path;
}

/**
 * `text` cut into runs, each place it names (for which `exists` says yes)
 * a run of its own carrying the place; the runs joined are `text`.
 */
export function linkPlaces(text: string, exists: (path: string) => boolean): Linked[] {
  const runs: Linked[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACE)) {
    const raw = match[1] ?? match[3];
    const path = raw === undefined ? null : workspacePath(raw);
    if (path === null || !exists(path)) {
      continue;
    }
    const line = Number(match[2] ?? match[4]);
    const column = match[5] === undefined ? null : Number(match[5]);
    if (match.index > last) {
      runs.push({ text: text.slice(last, match.index), location: null });
    }
    runs.push({ text: match[0], location: { path, line, column } });
    last = match.index + match[0].length;
  }
  if (last < text.length || runs.length === 0) {
    runs.push({ text: text.slice(last), location: null });
  }
  return runs;
}

/** The innermost frame in the workspace of the last traceback in `stderr`: where the run failed. */
export function failingPlace(stderr: string, exists: (path: string) => boolean): Location | null {
  // A file that does not compile has no traceback header: then all of stderr.
  const start = Math.max(0, stderr.lastIndexOf("Traceback (most recent call last):"));
  const frames = linkPlaces(stderr.slice(start), exists).filter((run) => run.text.startsWith("File "));
  return frames.at(-1)?.location ?? null;
}
