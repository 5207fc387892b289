"use client";

import { linkPlaces, type PlaceLinks } from "@/lib/traceback";

/** `text` with the workspace places it names as links that open the file at the line. */
export default function LinkedText({ text, links }: { text: string; links: PlaceLinks }) {
  return (
    <>
      {linkPlaces(text, links.exists).map((part, index) => {
        const place = part.location;
        return place === null ? (
          part.text
        ) : (
          <a
            key={index}
            href="#"
            className="underline decoration-dotted underline-offset-2 hover:decoration-solid"
            title={`Open ${place.path} at line ${place.line}`}
            onClick={(event) => {
              event.preventDefault();
              links.open(place);
            }}
          >
            {part.text}
          </a>
        );
      })}
    </>
  );
}
