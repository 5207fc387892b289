"use client";

import { useEffect, useRef } from "react";

type Props = { src: string; title: string; fileName: string; onClose: () => void };

/**
 * A plot at full size in a modal <dialog> (focus trapped, Escape closes),
 * with a download link. Loaded when a plot is first enlarged, not with the page.
 */
export default function PlotViewer({ src, title, fileName, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) {
      dialog.showModal();
    }
  }, []);
  return (
    <dialog
      ref={ref}
      aria-label={title}
      onClose={onClose}
      className="m-auto max-h-[calc(100dvh-2rem)] max-w-[calc(100vw-2rem)] rounded-xl border border-line bg-surface p-0 text-fg shadow-xl"
    >
      <div className="flex items-center gap-2 border-b border-line px-4 py-2">
        <h2 className="mr-auto text-sm font-semibold">{title}</h2>
        <a href={src} download={fileName} className="btn-secondary px-2 py-1 text-xs">
          Download PNG
        </a>
        <button type="button" className="btn-secondary px-2 py-1 text-xs" onClick={() => ref.current?.close()} autoFocus>
          Close
        </button>
      </div>
      <div className="overflow-auto p-4">
        <img src={src} alt={title} className="max-w-none bg-white" />
      </div>
    </dialog>
  );
}
