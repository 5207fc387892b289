/** URLs the app navigates to, kept in one place (static export: ids go in query strings). */
import { hasControlCharacter } from "./text";

export const HOME_URL = "/";

/** The sign-in page, remembering where to come back to. */
export function loginUrl(next?: string): string {
  const back = next === undefined ? null : safeNext(next);
  return back === null || back === HOME_URL ? "/login/" : `/login/?next=${encodeURIComponent(back)}`;
}

export function workspaceUrl(id: string | number): string {
  return `/workspace/?id=${encodeURIComponent(String(id))}`;
}

/**
 * `raw` if it is a path on this site, else null: a `next` parameter must never
 * send a freshly signed-in user to another origin ("//evil", "https://...", "/\\evil").
 */
export function safeNext(raw: string | null): string | null {
  if (raw === null || !raw.startsWith("/") || raw.startsWith("//") || raw.includes("\\")) {
    return null;
  }
  if (hasControlCharacter(raw)) {
    return null;
  }
  return raw;
}

/** Where the current page is, for coming back after signing in. */
export function currentLocation(): string {
  return `${window.location.pathname}${window.location.search}`;
}
