/**
 * An xterm.js link provider for places in a workspace (lib/traceback.ts):
 * `File "/app/x.py", line 3` and `x.py:3:5` in a terminal's output open the
 * file at that line when clicked, as the run console's links do. The parser
 * loads on the first line that may hold a place, not with the terminal.
 */
import type { IDisposable, ILink, Terminal } from "@xterm/xterm";
import type { PlaceLinks } from "./traceback";

/**
 * Register the provider on `terminal`; `links()` answers the current files
 * and opener (they change while the terminal lives). Dispose to remove it.
 */
export function registerPlaceLinks(terminal: Terminal, links: () => PlaceLinks): IDisposable {
  return terminal.registerLinkProvider({
    provideLinks(y, callback) {
      const line = terminal.buffer.active.getLine(y - 1)?.translateToString(true) ?? "";
      if (!line.includes(".py")) {
        callback(undefined);
        return;
      }
      void import("./traceback").then(({ linkPlaces }) => {
        const { exists, open } = links();
        const found: ILink[] = [];
        let column = 0;
        // Columns count cells; paths and numbers are ASCII, one cell each.
        for (const part of linkPlaces(line, exists)) {
          const place = part.location;
          if (place !== null) {
            found.push({
              text: part.text,
              range: { start: { x: column + 1, y }, end: { x: column + part.text.length, y } },
              decorations: { pointerCursor: true, underline: true },
              activate: () => open(place),
            });
          }
          column += part.text.length;
        }
        callback(found.length > 0 ? found : undefined);
      });
    },
  });
}
