/**
 * The terminal's colours for the light and dark schemes (xterm.js takes
 * colours, not CSS variables). Backgrounds match `.terminal-surface` in
 * globals.css.
 */
import type { ITheme } from "@xterm/xterm";

export const LIGHT: ITheme = {
  background: "#ffffff",
  foreground: "#1f2328",
  cursor: "#1f2328",
  cursorAccent: "#ffffff",
  selectionBackground: "#add6ff",
  black: "#24292f",
  red: "#cf222e",
  green: "#116329",
  yellow: "#7d4e00",
  blue: "#0550ae",
  magenta: "#8250df",
  cyan: "#1b7c83",
  white: "#6e7781",
  brightBlack: "#57606a",
  brightRed: "#a40e26",
  brightGreen: "#1a7f37",
  brightYellow: "#633c01",
  brightBlue: "#218bff",
  brightMagenta: "#a475f9",
  brightCyan: "#3192aa",
  brightWhite: "#8c959f",
};

export const DARK: ITheme = {
  background: "#1b1d23",
  foreground: "#e6edf3",
  cursor: "#e6edf3",
  cursorAccent: "#1b1d23",
  selectionBackground: "#264f78",
  black: "#484f58",
  red: "#ff7b72",
  green: "#3fb950",
  yellow: "#d29922",
  blue: "#58a6ff",
  magenta: "#bc8cff",
  cyan: "#39c5cf",
  white: "#b1bac4",
  brightBlack: "#6e7681",
  brightRed: "#ffa198",
  brightGreen: "#56d364",
  brightYellow: "#e3b341",
  brightBlue: "#79c0ff",
  brightMagenta: "#d2a8ff",
  brightCyan: "#56d4dd",
  brightWhite: "#ffffff",
};

/** `text` as a dim line of its own: what the page, not the shell, says in the terminal. */
export function dimNote(text: string): string {
  return `\r\n\x1b[2m${text}\x1b[0m\r\n`;
}
