/**
 * A run's output as the console shows it: text and plots interleaved in the
 * order they came. The server records that order (a run's `segments`); the
 * API's `output` pieces are text only, so the plots are put back in here the
 * way the server's `transcript.cut` does it. Pure: no React, no fetching.
 */
import type { Run } from "@/api/client";
import type { components } from "@/api/schema";

type OutputPiece = components["schemas"]["RunOutputPiece"];
type Stream = OutputPiece["stream"];

/** A plot shown by `plt.show()`, where it was shown. */
export type ImagePiece = { stream: "image"; url: string };
/** One piece of the console's transcript. */
export type ConsolePiece = OutputPiece | ImagePiece;

const STREAMS: readonly Stream[] = ["stdout", "stderr", "stdin"];

/**
 * `run`'s stdout, stderr, typed input and plots in the order its `segments`
 * say they came (consecutive text of one stream joined). What follows the
 * segments (all of it for a run recorded without them) comes after: text in
 * stream order, then plots. Ends are in code points, as the server counts.
 */
export function interleave(run: Pick<Run, "stdout" | "stderr" | "typed" | "images" | "segments">): ConsolePiece[] {
  const texts: Record<Stream, string[]> = {
    stdout: Array.from(run.stdout),
    stderr: Array.from(run.stderr),
    stdin: Array.from(run.typed),
  };
  const done: Record<Stream | "image", number> = { stdout: 0, stderr: 0, stdin: 0, image: 0 };
  const pieces: ConsolePiece[] = [];

  const textUntil = (stream: Stream, end: number) => {
    const start = done[stream];
    const stop = Math.min(end, texts[stream].length);
    if (stop <= start) {
      return;
    }
    done[stream] = stop;
    const text = texts[stream].slice(start, stop).join("");
    const last = pieces.at(-1);
    if (last !== undefined && last.stream === stream) {
      pieces[pieces.length - 1] = { stream, text: last.text + text };
    } else {
      pieces.push({ stream, text });
    }
  };
  const imagesUntil = (end: number) => {
    const stop = Math.min(end, run.images.length);
    for (let index = done.image; index < stop; index += 1) {
      pieces.push({ stream: "image", url: run.images[index] ?? "" });
    }
    done.image = Math.max(done.image, stop);
  };

  for (const segment of run.segments ?? []) {
    if (segment.stream === "image") {
      imagesUntil(segment.end);
    } else {
      textUntil(segment.stream, segment.end);
    }
  }
  for (const stream of STREAMS) {
    textUntil(stream, texts[stream].length);
  }
  imagesUntil(run.images.length);
  return pieces;
}
