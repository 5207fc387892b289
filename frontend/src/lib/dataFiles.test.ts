import { describe, expect, it } from "vitest";
import { dataKind, decodeLegacyText, isCsv, parseCsv } from "./dataFiles";

const bytes = (...values: number[]) => new Uint8Array(values).buffer;

describe("dataKind", () => {
  it("knows images by their bytes, never SVG", () => {
    expect(dataKind(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0))).toEqual({ label: "PNG image", image: "image/png" });
    expect(dataKind(bytes(0xff, 0xd8, 0xff, 0xe0)).image).toBe("image/jpeg");
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>').buffer;
    expect(dataKind(svg)).toEqual({ label: "Binary file", image: null });
    expect(dataKind(new TextEncoder().encode("%PDF-1.4").buffer)).toEqual({ label: "PDF document", image: null });
  });
});

describe("parseCsv", () => {
  it("reads quotes, the delimiter and the first rows", () => {
    expect(parseCsv('a,b\n1,"x, ""y"""\n2,3\n', 10)).toEqual({ rows: [["a", "b"], ["1", 'x, "y"'], ["2", "3"]], more: false });
    expect(parseCsv("a;b\r\n1;2\r\n", 10).rows).toEqual([["a", "b"], ["1", "2"]]);
    expect(parseCsv("h\n1\n2\n3\n", 2)).toEqual({ rows: [["h"], ["1"]], more: true });
  });

  it("decodes Latin-1 text and names CSV files", () => {
    expect(decodeLegacyText(bytes(0x4a, 0x6f, 0x73, 0xe9))).toBe("José");
    expect(isCsv("data/People.CSV")).toBe(true);
    expect(isCsv("main.py")).toBe(false);
  });
});
