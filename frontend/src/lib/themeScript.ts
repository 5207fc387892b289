/**
 * The theme's inline script (see lib/theme.ts), alone in its module: the
 * root layout imports only this, so the theme's code stays with the IDE.
 */

/** Where this browser keeps the chosen theme. */
export const THEME_KEY = "sandpit.theme";

/** Runs in the page's <head>, before any bundle: self-contained, never throws. */
export const THEME_SCRIPT = `try{var t=localStorage.getItem(${JSON.stringify(THEME_KEY)});if(t==="light"||t==="dark")document.documentElement.dataset.theme=t}catch(e){}`;
