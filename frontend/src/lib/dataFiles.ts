/**
 * What a file that is not editable text is, judged by its bytes (as the
 * server does, never by its name): an image the browser may show (PNG,
 * JPEG, GIF: never SVG, which can run script), a CSV to show as a table, or
 * a data file to download, with a label for its type. Pure functions.
 */

const SIGNATURES: Array<{ label: string; image?: string; test: (b: Uint8Array) => boolean }> = [
  { label: "PNG image", image: "image/png", test: (b) => starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { label: "JPEG image", image: "image/jpeg", test: (b) => starts(b, [0xff, 0xd8, 0xff]) },
  { label: "GIF image", image: "image/gif", test: (b) => ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a" },
  { label: "PDF document", test: (b) => ascii(b, 0, 5) === "%PDF-" },
  { label: "Parquet table", test: (b) => ascii(b, 0, 4) === "PAR1" },
  { label: "Feather/Arrow table", test: (b) => ascii(b, 0, 6) === "ARROW1" || ascii(b, 0, 4) === "FEA1" },
  { label: "NumPy array", test: (b) => starts(b, [0x93]) && ascii(b, 1, 6) === "NUMPY" },
  { label: "SQLite database", test: (b) => ascii(b, 0, 15) === "SQLite format 3" },
  { label: "ZIP archive (or XLSX, NPZ)", test: (b) => starts(b, [0x50, 0x4b, 0x03, 0x04]) || starts(b, [0x50, 0x4b, 0x05, 0x06]) },
];

function starts(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((value, index) => bytes[index] === value);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

export type DataKind = { label: string; image: string | null };

/** The type of `bytes` (an image's media type when the browser may show it), or a generic label. */
export function dataKind(bytes: ArrayBuffer): DataKind {
  const view = new Uint8Array(bytes);
  const found = SIGNATURES.find((signature) => signature.test(view));
  return found === undefined ? { label: "Binary file", image: null } : { label: found.label, image: found.image ?? null };
}

/** Whether a path names a CSV (or TSV) file, shown as a table by default. */
export function isCsv(path: string): boolean {
  return /\.(csv|tsv)$/i.test(path);
}

/** Text of another encoding (a Latin-1 CSV), read as Windows-1252, its superset; UTF-16 by its BOM. */
export function decodeLegacyText(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  if (starts(view, [0xff, 0xfe]) || starts(view, [0xfe, 0xff])) {
    return new TextDecoder(view[0] === 0xff ? "utf-16le" : "utf-16be").decode(view);
  }
  return new TextDecoder("windows-1252").decode(view);
}

/**
 * The first `limit` rows of CSV `text` (RFC 4180 quoting), the delimiter
 * guessed from the first line (comma, semicolon or tab); `more` when rows were left out.
 */
export function parseCsv(text: string, limit: number): { rows: string[][]; more: boolean } {
  const firstLine = text.slice(0, text.indexOf("\n") === -1 ? text.length : text.indexOf("\n"));
  const delimiter = [",", ";", "\t"].reduce((best, candidate) =>
    firstLine.split(candidate).length > firstLine.split(best).length ? candidate : best,
  );
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field === "") {
      quoted = true;
    } else if (char === delimiter) {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[index + 1] === "\n") {
        index++;
      }
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      if (rows.length > limit) {
        return { rows: rows.slice(0, limit), more: true };
      }
    } else {
      field += char;
    }
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
