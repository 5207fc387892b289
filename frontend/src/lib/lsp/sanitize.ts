/**
 * The HTML the LSP client renders from the servers' Markdown (hover,
 * completion documentation), cut down to an allowlist of tags and
 * attributes. The Markdown comes from docstrings the user's packages and
 * files hold, so it is untrusted: no scripts, no event handlers, no styles,
 * no links but http(s), no images (nothing loads from elsewhere).
 */

const TAGS = new Set([
  "P", "DIV", "SPAN", "PRE", "CODE", "EM", "STRONG", "B", "I", "UL", "OL", "LI", "BR", "HR",
  "H1", "H2", "H3", "H4", "H5", "H6", "BLOCKQUOTE", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD", "A", "DEL",
]);
const ATTRIBUTES: Record<string, readonly string[]> = { A: ["href", "title"], CODE: ["class"], SPAN: ["class"] };

function clean(node: Element): void {
  for (const child of [...node.children]) {
    if (!TAGS.has(child.tagName)) {
      // Unknown elements go with their content; text stays only as text.
      child.replaceWith(document.createTextNode(child.textContent ?? ""));
      continue;
    }
    const allowed = ATTRIBUTES[child.tagName] ?? [];
    for (const attribute of [...child.attributes]) {
      if (!allowed.includes(attribute.name)) {
        child.removeAttribute(attribute.name);
      }
    }
    const href = child.getAttribute("href");
    if (href !== null && !/^https?:\/\//i.test(href)) {
      child.removeAttribute("href");
    }
    clean(child);
  }
}

export function sanitizeHtml(html: string): string {
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  clean(parsed.body);
  return parsed.body.innerHTML;
}
