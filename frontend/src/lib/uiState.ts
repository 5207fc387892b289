/**
 * What the IDE remembers per workspace, stored by the server as the
 * workspace's `ui_state` (any JSON up to 64 KiB): open tabs, the active file,
 * expanded folders, panel sizes, the stdin box and the run time limit.
 *
 * The stored value comes back from the server as `unknown` JSON, possibly
 * written by an older version of this app: `parseUiState` keeps what is
 * well-formed and falls back to defaults for the rest. `saveUiState` stores
 * it (here rather than in workspaces.ts, so the IDE's scripts do not carry
 * the workspace list's calls).
 */
import { api } from "@/api/client";

export type Layout = {
  /** Width of the file tree, in CSS pixels. */
  tree: number;
  /** Width of the run console on the right. */
  console: number;
  /** Height of the terminal panel under the editor. */
  terminal: number;
  treeOpen: boolean;
  terminalOpen: boolean;
};

export type UiState = {
  tabs: string[];
  active: string | null;
  expanded: string[];
  layout: Layout;
  stdin: string;
  /** Seconds a run may take; null: the server's default. The server caps it at its maximum. */
  timeLimit: number | null;
  /** "Clear" in the console: runs started at or before this time (ms since the epoch, the server's clock) stay hidden. */
  clearedBefore: number | null;
  /** The cursor (an offset in the text) of each open file, restored when it is opened again. */
  cursors: Record<string, number>;
};

export const LIMITS = {
  tree: { min: 160, max: 600 },
  console: { min: 240, max: 900 },
  terminal: { min: 120, max: 900 },
} as const;

export const DEFAULT_LAYOUT: Layout = { tree: 240, console: 420, terminal: 260, treeOpen: true, terminalOpen: true };

const MAX_TABS = 30;
const MAX_EXPANDED = 200;
/** Leaves room below the server's 64 KiB cap for the rest of the state. */
const MAX_STDIN = 8 * 1024;
/** The most a person can ask for (the server's own maximum, 5 minutes by default, still applies). */
export const MAX_TIME_LIMIT_S = 24 * 3600;

/** A run time limit typed or stored: whole seconds from 1 to MAX_TIME_LIMIT_S, else null (the default). */
export function parseTimeLimit(value: unknown): number | null {
  const seconds = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 1
    ? Math.min(Math.round(seconds), MAX_TIME_LIMIT_S)
    : null;
}

export function parseUiState(raw: unknown): UiState {
  const value = isRecord(raw) ? raw : {};
  const layout = isRecord(value.layout) ? value.layout : {};
  const tabs = strings(value.tabs).slice(0, MAX_TABS);
  const active = typeof value.active === "string" && tabs.includes(value.active) ? value.active : (tabs[0] ?? null);
  return {
    tabs,
    active,
    expanded: strings(value.expanded).slice(0, MAX_EXPANDED),
    layout: {
      tree: size(layout.tree, "tree"),
      console: size(layout.console, "console"),
      terminal: size(layout.terminal, "terminal"),
      treeOpen: typeof layout.treeOpen === "boolean" ? layout.treeOpen : DEFAULT_LAYOUT.treeOpen,
      terminalOpen: typeof layout.terminalOpen === "boolean" ? layout.terminalOpen : DEFAULT_LAYOUT.terminalOpen,
    },
    stdin: typeof value.stdin === "string" ? value.stdin.slice(0, MAX_STDIN) : "",
    timeLimit: typeof value.timeLimit === "number" ? parseTimeLimit(value.timeLimit) : null,
    clearedBefore: typeof value.clearedBefore === "number" && Number.isFinite(value.clearedBefore) ? value.clearedBefore : null,
    cursors: cursors(value.cursors, tabs),
  };
}

/** The well-formed cursors of open tabs. */
function cursors(value: unknown, tabs: string[]): Record<string, number> {
  const stored = isRecord(value) ? value : {};
  return Object.fromEntries(
    tabs.flatMap((path) => {
      const offset = stored[path];
      return typeof offset === "number" && Number.isInteger(offset) && offset >= 0 ? [[path, offset]] : [];
    }),
  );
}

/** 16,000 characters are at most 64,000 bytes of UTF-8: under the server's 64 KiB whatever they are. */
const MAX_JSON_CHARS = 16_000;

/** The JSON to store; trimmed (stdin, folders, then tabs) so it always fits the server's limit. */
export function serializeUiState(state: UiState): Record<string, unknown> {
  const stored = {
    v: 1,
    tabs: state.tabs.slice(0, MAX_TABS),
    active: state.active,
    expanded: state.expanded.slice(0, MAX_EXPANDED),
    layout: state.layout,
    stdin: state.stdin.slice(0, MAX_STDIN),
    timeLimit: state.timeLimit,
    clearedBefore: state.clearedBefore,
    cursors: cursors(state.cursors, state.tabs.slice(0, MAX_TABS)),
  };
  const fits = () => JSON.stringify(stored).length <= MAX_JSON_CHARS;
  if (!fits()) {
    stored.stdin = "";
  }
  while (!fits() && stored.expanded.length > 0) {
    stored.expanded = stored.expanded.slice(0, Math.floor(stored.expanded.length / 2));
  }
  if (!fits()) {
    stored.cursors = {};
  }
  while (!fits() && stored.tabs.length > 0) {
    stored.tabs = stored.tabs.slice(0, -1);
    stored.active = stored.active !== null && stored.tabs.includes(stored.active) ? stored.active : null;
  }
  return stored;
}

export function clampSize(value: number, panel: keyof typeof LIMITS): number {
  const { min, max } = LIMITS[panel];
  return Math.round(Math.min(max, Math.max(min, value)));
}

function size(value: unknown, panel: keyof typeof LIMITS): number {
  return typeof value === "number" && Number.isFinite(value) ? clampSize(value, panel) : DEFAULT_LAYOUT[panel];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string" && item !== "") : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Saves the IDE state (`PATCH {ui_state}`), best effort: a failure costs a
 * remembered layout, nothing more, so it is ignored. keepalive lets the
 * request finish while the page unloads.
 */
/** How long after a save this tab trusts its own copy over the server's (a reload's span). */
const RELOAD_WINDOW_MS = 15_000;

function reloadKey(workspaceId: string): string {
  return `sandpit.ui.${workspaceId}`;
}

export function saveUiState(workspaceId: string, state: UiState): void {
  const uiState = serializeUiState(state);
  rememberUiState(workspaceId, uiState);
  void api
    .PATCH("/api/workspaces/{workspace_id}", {
      params: { path: { workspace_id: workspaceId } },
      body: { ui_state: uiState },
      keepalive: true,
    })
    .catch(() => undefined);
}

/** Keeps `uiState` in this tab for `newestUiState` (best effort). */
export function rememberUiState(workspaceId: string, uiState: Record<string, unknown>, now = Date.now()): void {
  try {
    sessionStorage.setItem(reloadKey(workspaceId), JSON.stringify({ at: now, uiState }));
  } catch {
    // Storage full or refused: the server's copy is all there is.
  }
}

/**
 * The state this tab saved moments ago, if any, else `fromServer`. A save
 * sent as the page is left (a reload) can land after the reloaded page has
 * read the workspace; this tab's own copy (sessionStorage: this tab only,
 * kept across a reload) is then the newer one.
 */
export function newestUiState(workspaceId: string, fromServer: unknown, now = Date.now()): unknown {
  try {
    const saved: unknown = JSON.parse(sessionStorage.getItem(reloadKey(workspaceId)) ?? "null");
    if (isRecord(saved) && typeof saved.at === "number" && now - saved.at < RELOAD_WINDOW_MS) {
      return saved.uiState;
    }
  } catch {
    // Unreadable: fall back to the server's copy.
  }
  return fromServer;
}
