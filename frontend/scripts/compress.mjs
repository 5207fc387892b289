// Stores a Brotli (.br) and a gzip (.gz) copy beside every script, style sheet
// and source map under out/_next/static, for the server to send as they are
// to browsers that accept them (sandpit/frontend.py): compressed once at the
// highest levels here, never per request. Run by `npm run build`.
//
//   node scripts/compress.mjs [directory]     (default: out/_next/static)

import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompress, constants, gzip } from "node:zlib";
import { promisify } from "node:util";

const COMPRESSIBLE = /\.(js|css|map|svg|json|txt)$/;
/** Smaller files gain too little to be worth a second request path. */
const MIN_BYTES = 1024;

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

async function* files(directory) {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      yield* files(path);
    } else if (entry.isFile() && COMPRESSIBLE.test(entry.name)) {
      yield path;
    }
  }
}

async function compress(path) {
  const data = await readFile(path);
  if (data.length < MIN_BYTES) {
    return [0, 0, 0];
  }
  const [br, gz] = await Promise.all([
    brotli(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      },
    }),
    gzipped(data, { level: constants.Z_BEST_COMPRESSION }),
  ]);
  // A copy that is not smaller is left out: the server then sends the file itself.
  await Promise.all([
    br.length < data.length ? writeFile(`${path}.br`, br) : undefined,
    gz.length < data.length ? writeFile(`${path}.gz`, gz) : undefined,
  ]);
  return [data.length, Math.min(br.length, data.length), Math.min(gz.length, data.length)];
}

const root = process.argv[2] ?? join("out", "_next", "static");
if (!(await stat(root).catch(() => null))?.isDirectory()) {
  console.error(`compress: no directory ${root} (build first)`);
  process.exit(1);
}
const totals = [0, 0, 0];
let count = 0;
for await (const path of files(root)) {
  const sizes = await compress(path);
  if (sizes[0] > 0) {
    count += 1;
    sizes.forEach((size, index) => (totals[index] += size));
  }
}
const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
console.log(`compress: ${count} files, ${kb(totals[0])} -> ${kb(totals[1])} brotli, ${kb(totals[2])} gzip`);
