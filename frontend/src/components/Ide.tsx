"use client";

import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FileEntry, WorkspaceDetail } from "@/api/client";
import { useEditorTabs, type Tab } from "@/hooks/useEditorTabs";
import { useFileListing } from "@/hooks/useFileListing";
import { useExpandedFolders } from "@/hooks/useExpandedFolders";
import { useIdeKeys } from "@/hooks/useIdeKeys";
import { useLeaveWarning } from "@/hooks/useLeaveWarning";
import { useLifetimeWarning } from "@/hooks/useLifetimeWarning";
import { useCursorMemory } from "@/hooks/useCursorMemory";
import { useEditorFocus } from "@/hooks/useEditorFocus";
import { usePlaceLinks } from "@/hooks/usePlaceLinks";
import { regionProps, useRegionFocus } from "@/hooks/useRegionFocus";
import { useRegions } from "@/hooks/useRegions";
import { useRuns } from "@/hooks/useRuns";
import { useSandbox } from "@/hooks/useSandbox";
import { useTerminalStart } from "@/hooks/useTerminalStart";
import { useUiState } from "@/hooks/useUiState";
import { watchAdmission, type AdmissionState } from "@/lib/admission";
import { FORMAT_DEADLINE_MS, formatOnSave } from "@/lib/formatOnSave";
import { isPython, type EditorDoc, type EditorHandle } from "@/lib/editor";
import { clampSize, LIMITS, newestUiState, parseUiState, type Layout } from "@/lib/uiState";
import { CodeEditor } from "./CodeEditor";
import { EditorTabs } from "./EditorTabs";
import { FileTree } from "./FileTree";
import { IdeToolbar } from "./IdeToolbar";
import { LimitBanner } from "./LimitBanner";
import { LoadingState } from "./LoadingState";
import { RunConsole } from "./RunConsole";
import { SandboxStatusBar } from "./SandboxStatusBar";
import { Splitter } from "./Splitter";
import { TerminalPanel } from "./TerminalPanel";
import type { HistoryView } from "./history/HistoryPanel";

// What is not needed to show an editable editor loads when first shown, each
// below a Suspense boundary of its own. React.lazy, never next/dynamic: the
// IDE renders only in the browser anyway, and next/dynamic's loader would be
// in the workspace page's first download.
// History and snapshots load when first opened.
const HistoryPanel = lazy(() => import("./history/HistoryPanel").then((m) => ({ default: m.HistoryPanel })));
// Submitting and its feedback load when first opened.
const SubmitPanel = lazy(() => import("./review/SubmitPanel").then((m) => ({ default: m.SubmitPanel })));
// Viewers for what is not editable text load when such a file is opened.
const FilePreview = lazy(() => import("./FilePreview"));
// Not lib/dataFiles' isCsv: importing it here would put that module in the first load.
const isCsv = (path: string) => /\.(csv|tsv)$/i.test(path);
const CsvView = lazy(() => import("./CsvTable").then((m) => ({ default: m.CsvView })));
// Narrow screens only.
const RegionTabs = lazy(() => import("./RegionTabs"));
// The keyboard shortcuts and the theme switch, when asked for.
const ShortcutsDialog = lazy(() => import("./ShortcutsDialog"));
// Asked only when stopping the sandbox would end terminals or runs.
const StopSandboxDialog = lazy(() => import("./StopSandboxDialog"));
// Shown only when the server refuses a sandbox (full, or the user's cap).
const AdmissionNotice = lazy(() => import("./AdmissionNotice").then((m) => ({ default: m.AdmissionNotice })));

// The editor (CodeMirror) is imported, not loaded with next/dynamic: its
// code then downloads with the page's, alongside React's, instead of after
// the session check. It still never renders on the server: the IDE renders
// only in the browser, once the workspace's data has come.

/**
 * The IDE for one workspace: file tree, tabbed editor, terminal panel, run
 * console and sandbox status, in resizable panels. Open tabs, the active
 * file, expanded folders, panel sizes and the stdin box are saved to the
 * workspace's `ui_state` and restored on the next visit.
 *
 * Keys: Ctrl/Cmd+S saves, Ctrl/Cmd+Enter runs the open file, Ctrl+` shows or
 * hides the terminal, F6 / Shift+F6 move between the panels.
 */
export function Ide({ workspace, initialFiles }: { workspace: WorkspaceDetail; initialFiles: FileEntry[] }) {
  const workspaceId = workspace.id;
  const initial = useMemo(() => parseUiState(newestUiState(workspaceId, workspace.ui_state)), [workspaceId, workspace.ui_state]);
  const [ui, updateUi, flushUi] = useUiState(workspaceId, initial);
  const [sizes, setSizes] = useState<Layout>(initial.layout);
  const files = useFileListing(workspaceId, initialFiles);
  const sandbox = useSandbox(workspaceId);
  const lifetimeWarning = useLifetimeWarning(sandbox.sandbox);
  const refreshFiles = files.refresh;
  const refreshSandbox = sandbox.refresh;
  const editor = useRef<EditorHandle | null>(null);
  const filePaths = useMemo(
    () => new Set(files.entries.filter((entry) => entry.kind === "file").map((entry) => entry.path)),
    [files.entries],
  );
  const fileExists = useCallback((path: string) => filePaths.has(path), [filePaths]);
  const runs = useRuns(
    workspaceId,
    (finished) => {
      void refreshFiles();
      refreshSandbox();
      // The line it failed on is marked in the editor until that file is edited.
      void import("@/lib/traceback").then(({ failingPlace }) => {
        const place = finished.status === "ok" ? null : failingPlace(finished.stderr, fileExists);
        editor.current?.markFailure(place?.path ?? null, place?.line ?? null);
      });
      // Its input line (if it has the focus) goes: the editor takes the focus back.
      const focused = document.activeElement;
      if (focused === null || focused === document.body || focused.matches('[data-testid="run-input"]')) {
        editor.current?.focus();
      }
    },
    initial.clearedBefore,
  );
  const restore = useMemo(() => ({ tabs: initial.tabs, active: initial.active }), [initial]);
  const tabs = useEditorTabs(workspaceId, editor, files.entries, restore);
  const [terminalMounted, setTerminalMounted] = useState(initial.layout.terminalOpen);
  const [terminalCount, setTerminalCount] = useState(0);
  const [confirmStop, setConfirmStop] = useState(false);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  // On a narrow screen, one region at a time, chosen with tabs (RegionTabs).
  const mountTerminal = useCallback(() => setTerminalMounted(true), []);
  const { narrow, region, setRegion, showRegion } = useRegions(mountTerminal);
  const [notice, setNotice] = useState<string | null>(null);
  const [historyView, setHistoryView] = useState<HistoryView | null>(null);
  const [submitOpen, setSubmitOpen] = useState(false);
  const [admission, setAdmission] = useState<AdmissionState>({ kind: "idle" });
  useEffect(() => watchAdmission(setAdmission), []);
  const root = useRef<HTMLElement>(null);

  const activeTab = tabs.tabs.find((tab) => tab.path === tabs.active) ?? null;
  const { expanded, setExpanded } = useExpandedFolders(ui, updateUi, tabs.active);
  const dirtyPaths = useMemo(() => new Set(tabs.tabs.filter((tab) => tab.dirty).map((tab) => tab.path)), [tabs.tabs]);
  // A new list when the tabs change, not on every keystroke (useEditorTabs keeps the list while
  // only the editor's text changes); the editor replaces only documents with a new revision.
  const docs = useMemo<EditorDoc[]>(
    () => tabs.tabs.filter((tab) => tab.kind === "text").map(({ path, text, revision }) => ({ path, text, revision })),
    [tabs.tabs],
  );

  // Remember open tabs and the active file.
  const tabPaths = tabs.tabs.map((tab) => tab.path).join("\n");
  useEffect(() => {
    const paths = tabPaths === "" ? [] : tabPaths.split("\n");
    updateUi((state) =>
      state.tabs.join("\n") === tabPaths && state.active === tabs.active ? state : { ...state, tabs: paths, active: tabs.active },
    );
  }, [tabPaths, tabs.active, updateUi]);

  // The editor takes the focus for the first file shown and for each file opened.
  const showEditor = useCallback(() => setRegion("editor"), [setRegion]);
  const { editorReady, onReady, openFile } = useEditorFocus({
    editorRef: editor,
    tabs: tabs.tabs,
    activeTab,
    openTab: tabs.open,
    showEditor,
  });

  const fileShown = editorReady || (activeTab !== null && activeTab.kind !== "loading" && activeTab.kind !== "text");
  const terminalHeld = useTerminalStart(fileShown, tabs.tabs.length === 0);

  // Traceback links: open the file, then show the line once the editor has it.
  const links = usePlaceLinks({ editorRef: editor, tabs: tabs.tabs, activeTab, editorReady, fileExists, openFile });

  // Cursor positions, remembered for the next visit.
  const { onCursor, initialCursor } = useCursorMemory(initial.cursors, updateUi, flushUi);

  // Ctrl/Cmd+S: the active file, formatted first (a Python file, when the user chose format on save).
  const saveActive = useCallback(async () => {
    const path = tabs.active;
    if (path === null) {
      return;
    }
    if (isPython(path) && formatOnSave()) {
      await editor.current?.format(path, FORMAT_DEADLINE_MS);
    }
    await tabs.save(path);
  }, [tabs]);

  const canRun = activeTab !== null && activeTab.kind === "text" && isPython(activeTab.path);

  const run = useCallback(async () => {
    if (activeTab === null || activeTab.kind !== "text" || !isPython(activeTab.path)) {
      setNotice("Open a Python file (.py) to run it.");
      return;
    }
    setNotice(null);
    setRegion("console");
    const saved = await tabs.save(activeTab.path);
    if (!saved) {
      setNotice(`${activeTab.path} could not be saved, so it was not run.`);
      return;
    }
    await runs.start(activeTab.path, ui.stdin, ui.timeLimit);
    // The run has started the sandbox if it was not running: show it now,
    // not at the next poll.
    refreshSandbox();
  }, [activeTab, tabs, runs, ui.stdin, ui.timeLimit, refreshSandbox, setRegion]);

  const stopLatest = useCallback(() => {
    const latest = runs.runs.findLast((item) => item.status === "running");
    if (latest !== undefined) {
      void runs.stop(latest.id);
    }
  }, [runs]);

  const setLayout = useCallback(
    (change: Partial<Layout>) => {
      setSizes((current) => ({ ...current, ...change }));
      updateUi((state) => ({ ...state, layout: { ...state.layout, ...change } }));
    },
    [updateUi],
  );

  const toggleTerminal = useCallback(() => {
    setTerminalMounted(true);
    setLayout({ terminalOpen: !sizes.terminalOpen });
  }, [setLayout, sizes.terminalOpen]);

  const focusEditor = useCallback(() => {
    if (activeTab?.kind !== "text") {
      return false;
    }
    editor.current?.focus();
    return true;
  }, [activeTab]);
  const { cycleFocus } = useRegionFocus(root, focusEditor);
  useIdeKeys({
    save: () => void saveActive(),
    run: () => void run(),
    toggleTerminal,
    cycleFocus,
    showShortcuts: () => setShortcutsOpen(true),
  });

  // A restore changed files: show the tree and the open tabs as they are now.
  const { reload: reloadTab, deleted: closeTab } = tabs;
  const onRestored = useCallback(
    ({ written, deleted }: { written: string[]; deleted: string[] }) => {
      void refreshFiles();
      deleted.forEach(closeTab);
      written.filter((path) => tabs.tabs.some((tab) => tab.path === path)).forEach(reloadTab);
    },
    [refreshFiles, closeTab, reloadTab, tabs.tabs],
  );

  // Warn before leaving with edits the server does not have yet.
  useLeaveWarning(tabs.tabs.some((tab) => tab.dirty || tab.saving));

  return (
    // The app header above is 3.5rem and a border high; the IDE takes the rest of the window.
    <main ref={root} className="flex h-[calc(100dvh-3.5rem-1px)] min-h-96 flex-col">
      <IdeToolbar
        name={workspace.name}
        canRun={canRun}
        runHint={activeTab?.path ?? ""}
        running={runs.running}
        treeOpen={sizes.treeOpen}
        terminalOpen={sizes.terminalOpen}
        onRun={() => void run()}
        onStop={stopLatest}
        onToggleTree={() => setLayout({ treeOpen: !sizes.treeOpen })}
        onToggleTerminal={toggleTerminal}
        onHistory={() => setHistoryView(activeTab?.kind === "text" ? "file" : "snapshots")}
        onShortcuts={() => setShortcutsOpen(true)}
        onSubmit={() => setSubmitOpen(true)}
        timeLimit={ui.timeLimit}
        onTimeLimit={(timeLimit) => updateUi((state) => ({ ...state, timeLimit }))}
      />
      {admission.kind !== "idle" && (
        <Suspense fallback={null}>
          <AdmissionNotice state={admission} />
        </Suspense>
      )}
      <LimitBanner sandbox={sandbox.sandbox} lastRun={runs.runs.at(-1)} warning={lifetimeWarning} />
      {narrow && (
        <Suspense fallback={<div className="h-9 border-b border-line bg-surface-muted" />}>
          <RegionTabs region={region} onSelect={showRegion} />
        </Suspense>
      )}
      <div className="flex min-h-0 flex-1">
        {(sizes.treeOpen || narrow) && (
          <>
            <nav
              {...regionProps("tree")}
              aria-label="Files"
              className={narrow ? (region === "tree" ? "min-w-0 flex-1 bg-surface" : "hidden") : "shrink-0 bg-surface"}
              style={narrow ? undefined : { width: sizes.tree }}
            >
              <FileTree
                workspaceId={workspaceId}
                workspaceName={workspace.name}
                entries={files.entries}
                listingError={files.error}
                expanded={expanded}
                activePath={tabs.active}
                dirtyPaths={dirtyPaths}
                onToggle={setExpanded}
                onOpen={openFile}
                onCreated={(path, kind) => (kind === "file" ? openFile(path) : setExpanded(path, true))}
                onRenamed={tabs.renamed}
                onDeleted={tabs.deleted}
                onRefresh={refreshFiles}
              />
            </nav>
            {!narrow && (
              <Splitter
                orientation="vertical"
                label="Resize files panel"
                value={sizes.tree}
                {...LIMITS.tree}
                direction={1}
                onChange={(tree) => setSizes((current) => ({ ...current, tree }))}
                onCommit={(tree) => setLayout({ tree: clampSize(tree, "tree") })}
              />
            )}
          </>
        )}
        <div className={narrow && region !== "editor" && region !== "terminal" ? "hidden" : "flex min-w-0 flex-1 flex-col"}>
          <section
            {...regionProps("editor")}
            aria-label="Editor"
            className={narrow && region !== "editor" ? "hidden" : "flex min-h-0 flex-1 flex-col bg-surface"}
          >
            <EditorTabs tabs={tabs.tabs} active={tabs.active} onSelect={tabs.setActive} onClose={tabs.close} />
            {activeTab?.saveError != null && (
              <div role="alert" className="flex items-center gap-3 border-b border-danger/40 bg-danger-soft px-3 py-1.5 text-sm text-danger" data-testid="save-error">
                <p className="min-w-0 flex-1">
                  Could not save {activeTab.path}: {activeTab.saveError}
                </p>
                <button type="button" className="shrink-0 font-medium underline" onClick={() => void tabs.save(activeTab.path)}>
                  Try again
                </button>
              </div>
            )}
            {notice !== null && (
              <p role="status" className="border-b border-line px-3 py-1.5 text-sm text-fg-muted">
                {notice}
              </p>
            )}
            <div id="editor-panel" role="tabpanel" aria-label={activeTab?.path ?? "No file open"} className="relative min-h-0 flex-1">
              <CodeEditor
                docs={docs}
                active={tabs.active}
                onChange={tabs.changed}
                onSave={() => void saveActive()}
                onRun={() => void run()}
                initialCursor={initialCursor}
                onCursor={onCursor}
                workspaceId={workspaceId}
                onOpenFile={openFile}
                onReady={onReady}
              />
              {activeTab?.kind === "text" && isCsv(activeTab.path) && (
                <Suspense fallback={null}>
                  <CsvView key={activeTab.path} path={activeTab.path} text={activeTab.text} />
                </Suspense>
              )}
              {activeTab?.kind === "loading" && (
                // Here, not in FilePreview: a file still loading must not fetch the viewers.
                <LoadingState label={`Opening ${activeTab.path}…`} className="h-full" />
              )}
              {activeTab !== null && activeTab.kind !== "text" && activeTab.kind !== "loading" && (
                <Suspense fallback={null}>
                  <FilePreview workspaceId={workspaceId} tab={activeTab} onRetry={() => tabs.reload(activeTab.path)} />
                </Suspense>
              )}
              {activeTab === null && (
                <div className="grid h-full place-items-center p-6 text-center text-sm text-fg-muted">
                  <p>
                    Open a file from the tree, or create one with <strong className="font-semibold">New file</strong>.
                  </p>
                </div>
              )}
            </div>
          </section>
          {terminalMounted && (
            <>
              {sizes.terminalOpen && !narrow && (
                <Splitter
                  orientation="horizontal"
                  label="Resize terminal panel"
                  value={sizes.terminal}
                  {...LIMITS.terminal}
                  direction={-1}
                  onChange={(terminal) => setSizes((current) => ({ ...current, terminal }))}
                  onCommit={(terminal) => setLayout({ terminal: clampSize(terminal, "terminal") })}
                />
              )}
              <div
                {...regionProps("terminal")}
                className={
                  narrow ? (region === "terminal" ? "min-h-0 flex-1" : "hidden") : sizes.terminalOpen ? "shrink-0" : "hidden"
                }
                style={narrow ? undefined : { height: sizes.terminal }}
              >
                {!terminalHeld && (
                  <TerminalPanel
                    workspaceId={workspaceId}
                    links={links}
                    warning={lifetimeWarning}
                    onCount={setTerminalCount}
                    // A command typed in a terminal may have made files: look again soon.
                    onCommand={files.refreshSoon}
                    onStarted={refreshSandbox}
                    onClose={() => setLayout({ terminalOpen: false })}
                  />
                )}
              </div>
            </>
          )}
        </div>
        {!narrow && (
          <Splitter
            orientation="vertical"
            label="Resize console panel"
            value={sizes.console}
            {...LIMITS.console}
            direction={-1}
            onChange={(width) => setSizes((current) => ({ ...current, console: width }))}
            onCommit={(width) => setLayout({ console: clampSize(width, "console") })}
          />
        )}
        <aside
          {...regionProps("console")}
          className={narrow ? (region === "console" ? "min-w-0 flex-1" : "hidden") : "shrink-0"}
          style={narrow ? undefined : { width: sizes.console }}
        >
          <RunConsole
            runs={runs.runs}
            stdin={ui.stdin}
            onStdin={(stdin) => updateUi((state) => ({ ...state, stdin }))}
            onStop={(id) => void runs.stop(id)}
            onInput={runs.sendInput}
            onClear={() => {
              const clearedBefore = runs.clear();
              if (clearedBefore !== null) {
                updateUi((state) => ({ ...state, clearedBefore }));
              }
            }}
            links={links}
          />
        </aside>
      </div>
      {historyView !== null && (
        <Suspense fallback={null}>
          <HistoryPanel
            workspaceId={workspaceId}
            path={activeTab?.kind === "text" ? activeTab.path : null}
            readText={(path) => editor.current?.snapshot(path)?.text ?? null}
            view={historyView}
            onView={setHistoryView}
            onClose={() => setHistoryView(null)}
            onRestored={onRestored}
          />
        </Suspense>
      )}
      {submitOpen && (
        <Suspense fallback={null}>
          <SubmitPanel
            workspaceId={workspaceId}
            path={activeTab?.kind === "text" ? activeTab.path : null}
            readText={(path) => editor.current?.snapshot(path)?.text ?? null}
            saveAll={async () => (await Promise.all(tabs.tabs.filter((tab) => tab.dirty).map((tab) => tabs.save(tab.path)))).every(Boolean)}
            onClose={() => setSubmitOpen(false)}
          />
        </Suspense>
      )}
      <SandboxStatusBar
        sandbox={sandbox.sandbox}
        usage={sandbox.usage}
        saveState={saveStateOf(activeTab)}
        onRestart={() => (runs.running || terminalCount > 0 ? setConfirmStop(true) : void sandbox.restart())}
      />
      {shortcutsOpen && (
        <Suspense fallback={null}>
          <ShortcutsDialog onClose={() => setShortcutsOpen(false)} />
        </Suspense>
      )}
      {confirmStop && (
        <Suspense fallback={null}>
          <StopSandboxDialog
            runs={runs.runs.filter((item) => item.status === "running").length}
            terminals={terminalCount}
            onConfirm={() => {
              setConfirmStop(false);
              void sandbox.restart();
            }}
            onCancel={() => setConfirmStop(false)}
          />
        </Suspense>
      )}
    </main>
  );
}

/** The status bar's word on the active file's save state ("" for no text file). */
function saveStateOf(tab: Tab | null): string {
  if (tab === null || tab.kind !== "text") {
    return "";
  }
  return tab.saving ? "Saving…" : tab.saveError !== null ? "Not saved" : tab.dirty ? "Unsaved changes" : "Saved";
}
