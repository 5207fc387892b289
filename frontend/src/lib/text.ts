/** Checks on text that comes from people or URLs (kept apart from validation.ts, which only the sign-in pages need). */

/** Whether `text` has an ASCII control character (U+0000–U+001F or DEL), which no path or URL here may hold. */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code <= 0x1f || code === 0x7f) {
      return true;
    }
  }
  return false;
}
