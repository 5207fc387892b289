/**
 * The Python language for the editor: the Lezer Python parser with
 * @codemirror/lang-python's indentation, folding and bracket data (version
 * 6.2.1, MIT licence, Marijn Haverbeke and others), copied here without its
 * completions.
 *
 * Why a copy: lang-python's module also holds its completions, which import
 * @codemirror/autocomplete, and a bundler keeps a module whole, so importing
 * `pythonLanguage` from it put autocomplete (12 KB gzipped) into the
 * workspace page's first download. Completion now loads on the first
 * keystroke (lib/completion.ts), with lang-python's completion sources
 * attached to this language's data there. Keep in step with lang-python
 * when upgrading it (its node names are the parser's, shared by both).
 */
import { parser } from "@lezer/python";
import { delimitedIndent, foldInside, foldNodeProp, indentNodeProp, LRLanguage, type TreeIndentContext } from "@codemirror/language";
import type { SyntaxNode } from "@lezer/common";

/** The innermost block body that the line at `context.pos` may continue (blank or comment lines). */
function innerBody(context: TreeIndentContext): SyntaxNode | null {
  let { node, pos } = context;
  const lineIndent = context.lineIndent(pos, -1);
  let found: SyntaxNode | null = null;
  for (;;) {
    const before = node.childBefore(pos);
    if (!before) {
      break;
    } else if (before.name === "Comment") {
      pos = before.from;
    } else if (before.name === "Body" || before.name === "MatchBody") {
      if (context.baseIndentFor(before) + context.unit <= lineIndent) {
        found = before;
      }
      node = before;
    } else if (before.name === "MatchClause" || before.type.is("Statement")) {
      node = before;
    } else {
      break;
    }
  }
  return found;
}

function indentBody(context: TreeIndentContext, node: SyntaxNode): number | null {
  const base = context.baseIndentFor(node);
  const line = context.lineAt(context.pos, -1);
  const to = line.from + line.text.length;
  // Don't consider blank, deindented lines at the end of the block part of the block.
  if (
    /^\s*($|#)/.test(line.text) &&
    context.node.to < to + 100 &&
    !/\S/.test(context.state.sliceDoc(to, context.node.to)) &&
    context.lineIndent(context.pos, -1) <= base
  ) {
    return null;
  }
  // A normally deindenting keyword at a higher indentation than the block belongs to the next level.
  if (/^\s*(else:|elif |except |finally:|case\s+[^=:]+:)/.test(context.textAfter) && context.lineIndent(context.pos, -1) > base) {
    return null;
  }
  return base + context.unit;
}

export const pythonLanguage = LRLanguage.define({
  name: "python",
  parser: parser.configure({
    props: [
      indentNodeProp.add({
        Body: (context) => {
          const body = (/^\s*(#|$)/.test(context.textAfter) && innerBody(context)) || context.node;
          return indentBody(context, body) ?? context.continue();
        },
        MatchBody: (context) => indentBody(context, innerBody(context) ?? context.node) ?? context.continue(),
        IfStatement: (cx) => (/^\s*(else:|elif )/.test(cx.textAfter) ? cx.baseIndent : cx.continue()),
        "ForStatement WhileStatement": (cx) => (/^\s*else:/.test(cx.textAfter) ? cx.baseIndent : cx.continue()),
        TryStatement: (cx) => (/^\s*(except[ :]|finally:|else:)/.test(cx.textAfter) ? cx.baseIndent : cx.continue()),
        MatchStatement: (cx) => (/^\s*case /.test(cx.textAfter) ? cx.baseIndent + cx.unit : cx.continue()),
        "TupleExpression ComprehensionExpression ParamList ArgList ParenthesizedExpression": delimitedIndent({ closing: ")" }),
        "DictionaryExpression DictionaryComprehensionExpression SetExpression SetComprehensionExpression": delimitedIndent({
          closing: "}",
        }),
        "ArrayExpression ArrayComprehensionExpression": delimitedIndent({ closing: "]" }),
        MemberExpression: (cx) => cx.baseIndent + cx.unit,
        "String FormatString": () => null,
        Script: (context) => {
          const inner = innerBody(context);
          return (inner && indentBody(context, inner)) ?? context.continue();
        },
      }),
      foldNodeProp.add({
        "ArrayExpression DictionaryExpression SetExpression TupleExpression": foldInside,
        Body: (node, state) => ({ from: node.from + 1, to: node.to - (node.to === state.doc.length ? 0 : 1) }),
        "String FormatString": (node, state) => ({ from: state.doc.lineAt(node.from).to, to: node.to }),
      }),
    ],
  }),
  languageData: {
    closeBrackets: {
      brackets: ["(", "[", "{", "'", '"', "'''", '"""'],
      stringPrefixes: ["f", "fr", "rf", "r", "u", "b", "br", "rb", "F", "FR", "RF", "R", "U", "B", "BR", "RB"],
    },
    commentTokens: { line: "#" },
    // Indentation is recomputed when a line comes to match this.
    indentOnInput: /^\s*([}\])]|else:|elif |except |finally:|case\s+[^:]*:?)$/,
  },
});
