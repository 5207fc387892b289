"use client";

import { useEffect, useRef, useState } from "react";
import { formatOnSave, setFormatOnSave } from "@/lib/formatOnSave";
import { currentTheme, setTheme, type Theme } from "@/lib/theme";

const isMac = () => /Mac|iPhone|iPad/.test(navigator.platform);

/** The IDE's keys, as the IDE, the editor and the terminal implement them. */
function shortcuts(mod: string): [string, string][] {
  return [
    [`${mod}+Enter`, "Run the open Python file"],
    [`${mod}+S`, "Save the file (files also save a second after you stop typing)"],
    ["Ctrl+`", "Show or hide the terminal"],
    ["F6 / Shift+F6", "Move between files, editor, terminal and console"],
    ["Esc, then Tab", "Leave the editor or the terminal (Tab indents, and goes to the shell, there)"],
    [`${mod}+F`, "Find and replace in the file"],
    [`${mod}+/`, "Comment or uncomment the lines"],
    ["Ctrl+Space", "Complete the word"],
    ["Shift+Alt+F", "Format the Python file (ruff format)"],
    [`${mod}+D`, "Select the next match too (multi-cursor)"],
    ["Alt+click", "Add a cursor"],
    ["Ctrl+Shift+F", "Find in the terminal"],
    ["Enter / Ctrl+D", "In a run's input line: send the line / end the input"],
    ["?", "This list"],
  ];
}

const THEMES: [Theme, string][] = [
  ["light", "Light"],
  ["dark", "Dark"],
  ["system", "System"],
];

/**
 * The keyboard shortcuts, the colour theme (light, dark, or the system's)
 * and format on save (lib/formatOnSave.ts), in a modal <dialog>. Loaded
 * when first opened (`?`, or the toolbar's button).
 */
export default function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [theme, chooseTheme] = useState<Theme>(currentTheme);
  const [formatting, chooseFormatting] = useState(formatOnSave);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) {
      dialog.showModal();
    }
  }, []);
  const mod = isMac() ? "⌘" : "Ctrl";
  return (
    <dialog
      ref={ref}
      aria-labelledby="shortcuts-title"
      onClose={onClose}
      className="m-auto max-h-[calc(100dvh-2rem)] w-[min(36rem,calc(100vw-2rem))] rounded-xl border border-line bg-surface p-0 text-fg shadow-xl"
    >
      <div className="space-y-4 p-6">
        <h2 id="shortcuts-title" className="text-lg font-semibold">
          Keyboard shortcuts
        </h2>
        <table className="w-full text-sm">
          <tbody>
            {shortcuts(mod).map(([keys, what]) => (
              <tr key={keys} className="border-b border-line last:border-0">
                <th scope="row" className="py-1.5 pr-4 text-left align-top font-normal whitespace-nowrap">
                  <kbd className="rounded border border-line bg-surface-muted px-1.5 py-0.5 font-mono text-xs">{keys}</kbd>
                </th>
                <td className="py-1.5 text-fg-muted">{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <fieldset className="space-y-1">
          <legend className="text-sm font-semibold">Theme</legend>
          <div className="flex gap-4 text-sm">
            {THEMES.map(([value, label]) => (
              <label key={value} className="flex items-center gap-1.5">
                <input
                  type="radio"
                  name="theme"
                  value={value}
                  checked={theme === value}
                  onChange={() => {
                    setTheme(value);
                    chooseTheme(value);
                  }}
                />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset className="space-y-1">
          <legend className="text-sm font-semibold">Editor</legend>
          <label className="flex items-center gap-1.5 text-sm">
            <input
              type="checkbox"
              checked={formatting}
              onChange={(event) => {
                setFormatOnSave(event.target.checked);
                chooseFormatting(event.target.checked);
              }}
            />
            Format Python files on save ({mod}+S)
          </label>
        </fieldset>
        <div className="flex justify-end">
          <button type="button" className="btn-secondary" onClick={() => ref.current?.close()} autoFocus>
            Close
          </button>
        </div>
      </div>
    </dialog>
  );
}
