"use client";

import { useId } from "react";
import type { FileRow } from "@/lib/review";

/**
 * A set of files typed in a form (starter files, tests): each a path and its
 * text, with buttons to add and remove one. `legend` names the set; every
 * field's label includes it, so "Path of hidden test file 1" is unambiguous.
 */
export function FilesField({
  legend,
  hint,
  rows,
  onChange,
  disabled,
}: {
  legend: string;
  hint?: string;
  rows: FileRow[];
  onChange: (rows: FileRow[]) => void;
  disabled?: boolean;
}) {
  const id = useId();
  const update = (index: number, change: Partial<FileRow>) => onChange(rows.map((row, at) => (at === index ? { ...row, ...change } : row)));
  return (
    <fieldset className="space-y-2 rounded-md border border-line p-3">
      <legend className="px-1 text-sm font-medium">{legend}</legend>
      {hint !== undefined && <p className="text-xs text-fg-muted">{hint}</p>}
      {rows.map((row, index) => (
        <div key={index} className="space-y-1">
          <div className="flex items-center gap-2">
            <label htmlFor={`${id}-path-${index}`} className="sr-only">
              Path of {legend.toLowerCase()} {index + 1}
            </label>
            <input
              id={`${id}-path-${index}`}
              className="input py-1 font-mono"
              placeholder="path, e.g. main.py"
              value={row.path}
              onChange={(event) => update(index, { path: event.target.value })}
              disabled={disabled}
            />
            <button
              type="button"
              className="btn-ghost px-2 py-1"
              onClick={() => onChange(rows.filter((_, at) => at !== index))}
              disabled={disabled}
              aria-label={`Remove ${legend.toLowerCase()} ${index + 1}`}
            >
              Remove
            </button>
          </div>
          <label htmlFor={`${id}-text-${index}`} className="sr-only">
            Content of {legend.toLowerCase()} {index + 1}
          </label>
          <textarea
            id={`${id}-text-${index}`}
            className="input min-h-24 font-mono text-xs"
            value={row.text}
            onChange={(event) => update(index, { text: event.target.value })}
            disabled={disabled}
            spellCheck={false}
          />
        </div>
      ))}
      <button type="button" className="btn-ghost px-2 py-1" onClick={() => onChange([...rows, { path: "", text: "" }])} disabled={disabled}>
        Add a file
      </button>
    </fieldset>
  );
}
