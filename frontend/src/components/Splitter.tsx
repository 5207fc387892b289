"use client";

import { useRef, type KeyboardEvent, type PointerEvent } from "react";

type Props = {
  /** "vertical": a bar between columns, dragged sideways; "horizontal": between rows. */
  orientation: "vertical" | "horizontal";
  label: string;
  value: number;
  min: number;
  max: number;
  /** +1 when dragging right/down grows the panel, -1 when it shrinks it. */
  direction: 1 | -1;
  onChange: (value: number) => void;
  /** When a drag or a key press is over: the moment to remember the size. */
  onCommit: (value: number) => void;
};

const STEP = 16;

/**
 * A resize handle (WAI-ARIA window splitter): drag it with the pointer, or
 * focus it and use the arrow keys (Shift for bigger steps), Home and End.
 */
export function Splitter({ orientation, label, value, min, max, direction, onChange, onCommit }: Props) {
  const drag = useRef<{ start: number; value: number; last: number } | null>(null);
  const vertical = orientation === "vertical";
  const clamp = (next: number) => Math.round(Math.min(max, Math.max(min, next)));

  function onPointerDown(event: PointerEvent<HTMLDivElement>) {
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { start: vertical ? event.clientX : event.clientY, value, last: value };
  }

  function onPointerMove(event: PointerEvent<HTMLDivElement>) {
    const state = drag.current;
    if (state === null) {
      return;
    }
    const delta = (vertical ? event.clientX : event.clientY) - state.start;
    state.last = clamp(state.value + direction * delta);
    onChange(state.last);
  }

  function onPointerUp() {
    const state = drag.current;
    drag.current = null;
    if (state !== null) {
      onCommit(state.last);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const step = event.shiftKey ? STEP * 4 : STEP;
    const grow = vertical ? { ArrowRight: 1, ArrowLeft: -1 } : { ArrowDown: 1, ArrowUp: -1 };
    let next: number | null = null;
    const sign = grow[event.key as keyof typeof grow];
    if (sign !== undefined) {
      next = clamp(value + sign * direction * step);
    } else if (event.key === "Home") {
      next = min;
    } else if (event.key === "End") {
      next = max;
    }
    if (next !== null) {
      event.preventDefault();
      onChange(next);
      onCommit(next);
    }
  }

  return (
    <div
      role="separator"
      aria-label={label}
      aria-orientation={vertical ? "vertical" : "horizontal"}
      aria-valuenow={value}
      aria-valuemin={min}
      aria-valuemax={max}
      tabIndex={0}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onKeyDown={onKeyDown}
      className={`group relative z-10 shrink-0 touch-none bg-line outline-none focus-visible:bg-ring ${
        vertical ? "w-px cursor-col-resize" : "h-px cursor-row-resize"
      }`}
    >
      {/* A wider invisible grip than the 1px line. */}
      <span
        aria-hidden="true"
        className={`absolute group-hover:bg-accent/40 ${vertical ? "inset-y-0 -left-1 -right-1" : "inset-x-0 -top-1 -bottom-1"}`}
      />
    </div>
  );
}
