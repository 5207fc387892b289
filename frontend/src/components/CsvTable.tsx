"use client";

import { useMemo, useState } from "react";
import { parseCsv } from "@/lib/dataFiles";

const ROWS = 200;

/**
 * A CSV file as a table: its first row as column names, the next rows under
 * them (at most `ROWS`), and the way back to the text. Loaded on demand
 * (React.lazy in the IDE, next/dynamic in FilePreview's own chunk): only a
 * CSV tab needs it.
 */
export default function CsvTable({ path, text, onShowText, textLabel }: { path: string; text: string; onShowText: () => void; textLabel: string }) {
  const { rows, more } = useMemo(() => parseCsv(text, ROWS + 1), [text]);
  const [header = [], ...body] = rows;
  return (
    <div className="absolute inset-0 z-10 flex flex-col bg-surface" data-testid="csv-table">
      <div className="flex items-center gap-3 border-b border-line px-3 py-1.5 text-sm text-fg-muted">
        <p className="min-w-0 flex-1 truncate">
          {path}: {header.length} columns, {more ? `first ${body.length} rows` : `${body.length} rows`}
        </p>
        <button type="button" className="btn-secondary py-1" onClick={onShowText}>
          {textLabel}
        </button>
      </div>
      <div className="min-h-0 flex-1 overflow-auto">
        <table className="min-w-full border-collapse font-mono text-xs">
          <thead className="sticky top-0 bg-surface-muted">
            <tr>
              {header.map((name, index) => (
                <th key={index} scope="col" className="border-b border-line px-2 py-1 text-left font-semibold whitespace-nowrap">
                  {name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {body.map((row, rowIndex) => (
              <tr key={rowIndex} className="odd:bg-surface-muted/40">
                {row.map((cell, index) => (
                  <td key={index} className="border-b border-line/60 px-2 py-0.5 whitespace-nowrap">
                    {cell}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/**
 * A UTF-8 CSV tab: the table over the editor, or (after "Edit as text") the
 * editor with a button back to the table.
 */
export function CsvView({ path, text }: { path: string; text: string }) {
  const [asText, setAsText] = useState(false);
  if (!asText) {
    return <CsvTable path={path} text={text} textLabel="Edit as text" onShowText={() => setAsText(true)} />;
  }
  return (
    <button type="button" className="btn-secondary absolute top-2 right-4 z-10 py-1" onClick={() => setAsText(false)}>
      View as table
    </button>
  );
}
