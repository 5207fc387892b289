"use client";

import { useCallback } from "react";
import type { Tab } from "@/hooks/useEditorTabs";
import { downloadUrl } from "@/lib/files";
import { formatBytes } from "@/lib/format";
import { ErrorMessage } from "./ErrorMessage";
import { LoadingState } from "./LoadingState";

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
};

function imageType(path: string): string | null {
  const extension = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  return IMAGE_TYPES[extension] ?? null;
}

/**
 * An image from bytes in memory, through a blob URL that lives exactly as
 * long as the element shows these bytes (made and revoked by the ref).
 */
function BlobImage({ bytes, type, alt }: { bytes: ArrayBuffer; type: string; alt: string }) {
  const attach = useCallback(
    (image: HTMLImageElement | null) => {
      if (image === null) {
        return;
      }
      const url = URL.createObjectURL(new Blob([bytes], { type }));
      image.src = url;
      return () => URL.revokeObjectURL(url);
    },
    [bytes, type],
  );
  return <img ref={attach} alt={alt} className="max-w-full rounded border border-line bg-white" />;
}

/**
 * What the editor area shows for a tab that is not editable text: a
 * spinner while it loads, the error when it could not be read, the picture
 * for an image (from a blob URL: the server sends every file as text/plain),
 * or a download link for other binary files.
 */
export function FilePreview({ workspaceId, tab, onRetry }: { workspaceId: string; tab: Tab; onRetry: () => void }) {
  const type = tab.kind === "binary" ? imageType(tab.path) : null;
  if (tab.kind === "loading") {
    return <LoadingState label={`Opening ${tab.path}…`} className="h-full" />;
  }
  if (tab.kind === "error") {
    return (
      <div className="p-6">
        <ErrorMessage message={tab.error ?? "The file could not be opened."} onRetry={onRetry} />
      </div>
    );
  }
  const download = (
    <a className="btn-secondary" href={downloadUrl(workspaceId, tab.path)} download>
      Download {tab.path}
    </a>
  );
  if (type !== null && tab.bytes !== null) {
    return (
      <div className="flex h-full flex-col items-center gap-4 overflow-auto p-6">
        <BlobImage bytes={tab.bytes} type={type} alt={tab.path} />
        {download}
      </div>
    );
  }
  return (
    <div className="flex h-full flex-col items-center justify-center gap-4 p-6 text-center text-sm text-fg-muted">
      <p>
        {tab.path} is not a text file ({formatBytes(tab.bytes?.byteLength ?? 0)}), so it cannot be edited here.
      </p>
      {download}
    </div>
  );
}
