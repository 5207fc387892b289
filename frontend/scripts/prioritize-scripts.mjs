// Marks each exported page's own scripts `fetchpriority="high"`.
//
// Next.js loads a page's chunks with `<script async>`, which browsers fetch at
// low priority and, while the page's style sheet is still loading, a few at a
// time; but the page renders nothing until every one of them has run. High
// priority fetches them all at once (measured: the workspace page's last
// chunk arrives ~100 ms sooner on a cold load, bench/bench_ide.py). Only the
// attributes change, and a page whose tags look different is left as it is.
// Run by `npm run build`.
//
//   node scripts/prioritize-scripts.mjs [directory]     (default: out)

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const ASYNC_CHUNK = /(<script src="\/_next\/static\/chunks\/[^"]+\.js") async="">/g;
const LOW_PRELOAD = /(<link rel="preload" as="script") fetchPriority="low"( href="\/_next\/static\/chunks\/[^"]+\.js")/g;

async function* pages(directory) {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory() && entry.name !== "_next") {
      yield* pages(path);
    } else if (entry.isFile() && entry.name.endsWith(".html")) {
      yield path;
    }
  }
}

let changed = 0;
let scripts = 0;
for await (const path of pages(process.argv[2] ?? "out")) {
  const html = await readFile(path, "utf8");
  const marked = html
    .replace(ASYNC_CHUNK, (_, tag) => (scripts++, `${tag} async="" fetchpriority="high">`))
    .replace(LOW_PRELOAD, (_, link, href) => (scripts++, `${link} fetchPriority="high"${href}`));
  if (marked !== html) {
    await writeFile(path, marked);
    changed += 1;
  }
}
console.log(`prioritize-scripts: ${scripts} scripts in ${changed} pages marked fetchpriority="high"`);
