"use client";

import ReactMarkdown, { defaultUrlTransform } from "react-markdown";

/**
 * Markdown written by users (assignment descriptions, comments, review
 * summaries), rendered safely: react-markdown builds React elements from the
 * syntax tree and never injects HTML; raw HTML in the source is dropped
 * (`skipHtml`), and links keep only safe protocols (`defaultUrlTransform`
 * turns `javascript:` and the like into nothing). Links open in a new tab
 * without handing this page to the opened one.
 */
export function Markdown({ source, className = "" }: { source: string; className?: string }) {
  return (
    <div className={`markdown space-y-2 text-sm leading-relaxed ${className}`}>
      <ReactMarkdown
        skipHtml
        urlTransform={defaultUrlTransform}
        components={{
          a: ({ href, children }) => (
            <a href={href} target="_blank" rel="noopener noreferrer nofollow" className="text-accent underline underline-offset-2">
              {children}
            </a>
          ),
          // Images would load from anywhere (and the CSP forbids most): show their text.
          img: ({ alt }) => <span>{alt}</span>,
        }}
      >
        {source}
      </ReactMarkdown>
    </div>
  );
}
