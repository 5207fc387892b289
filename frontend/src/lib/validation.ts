/** Client-side checks that mirror the server's rules (the server still decides). */

export const USERNAME_RULE = "3–32 characters: lowercase letters, digits, _ and -.";
export const PASSWORD_RULE = "8–128 characters.";

const USERNAME = /^[a-z0-9_-]{3,32}$/;

/** An error sentence, or null when the username is acceptable. */
export function checkUsername(value: string): string | null {
  if (value === "") {
    return "Enter a username.";
  }
  return USERNAME.test(value) ? null : `Username must be ${USERNAME_RULE}`;
}

/** An error sentence, or null. Length counts characters, as the server does, not UTF-16 units. */
export function checkPassword(value: string): string | null {
  const length = Array.from(value).length;
  if (length === 0) {
    return "Enter a password.";
  }
  if (length < 8 || length > 128) {
    return `Password must be ${PASSWORD_RULE}`;
  }
  return null;
}
