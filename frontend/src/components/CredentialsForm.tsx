"use client";

import { useEffect, useRef, useState, type FormEvent } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { register, registrationOpen, signIn } from "@/lib/auth";
import { HOME_URL, safeNext } from "@/lib/navigation";
import { checkPassword, checkUsername, PASSWORD_RULE, USERNAME_RULE } from "@/lib/validation";
import { ErrorMessage } from "./ErrorMessage";
import { TextField } from "./TextField";

type Mode = "login" | "register";
type FieldErrors = {
  username?: string | null;
  password?: string | null;
  confirm?: string | null;
  invitation?: string | null;
};

const COPY = {
  login: {
    title: "Sign in to Sandpit",
    submit: "Sign in",
    busy: "Signing in…",
    other: { text: "New here?", link: "Create an account", href: "/register/" },
  },
  register: {
    title: "Create your account",
    submit: "Create account",
    busy: "Creating account…",
    other: { text: "Already have an account?", link: "Sign in", href: "/login/" },
  },
} as const;

/**
 * Sign-in and sign-up form. Register creates the account and then signs in
 * with the same credentials, so both end with the session cookie set and a
 * move to `?next=` (a same-site path) or the workspace list.
 */
export function CredentialsForm({ mode }: { mode: Mode }) {
  const router = useRouter();
  const copy = COPY[mode];
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const usernameRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const invitationRef = useRef<HTMLInputElement>(null);
  /** Whether anyone may sign up; when not, an invitation code is needed. */
  const [signupOpen, setSignupOpen] = useState(true);

  useEffect(() => {
    if (mode !== "register") {
      return;
    }
    let live = true;
    void registrationOpen().then((open) => {
      if (live) {
        setSignupOpen(open);
      }
    });
    return () => {
      live = false;
    };
  }, [mode]);

  function validate(username: string, password: string, confirm: string, invitation: string): FieldErrors | null {
    const found: FieldErrors =
      mode === "register"
        ? {
            username: checkUsername(username),
            password: checkPassword(password),
            confirm: confirm === password ? null : "The passwords do not match.",
            invitation: signupOpen || invitation !== "" ? null : "Sign-up is closed: enter your invitation code.",
          }
        : {
            username: username === "" ? "Enter your username." : null,
            password: password === "" ? "Enter your password." : null,
          };
    return Object.values(found).some(Boolean) ? found : null;
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const username = String(form.get("username") ?? "").trim();
    const password = String(form.get("password") ?? "");
    const confirm = String(form.get("confirm") ?? "");
    const invitation = String(form.get("invitation") ?? "").trim();

    const invalid = validate(username, password, confirm, invitation);
    setErrors(invalid ?? {});
    setFormError(null);
    if (invalid !== null) {
      const first = invalid.username
        ? usernameRef
        : invalid.password
          ? passwordRef
          : invalid.confirm
            ? confirmRef
            : invitationRef;
      first.current?.focus();
      return;
    }

    setBusy(true);
    const credentials = { username, password };
    if (mode === "register") {
      const created = await register(credentials, invitation);
      if (!created.ok) {
        setFormError(created.message);
        setBusy(false);
        return;
      }
    }
    const signedIn = await signIn(credentials);
    if (!signedIn.ok) {
      // Unreachable server: the message says so by itself.
      const created = mode === "register" && signedIn.status !== 0;
      setFormError(created ? `Your account was created, but signing in failed: ${signedIn.message}` : signedIn.message);
      setBusy(false);
      return;
    }
    const next = safeNext(new URLSearchParams(window.location.search).get("next"));
    router.replace(next ?? HOME_URL);
  }

  return (
    <div className="card w-full max-w-sm p-6 sm:p-8">
      <h1 className="mb-6 text-xl font-semibold tracking-tight">{copy.title}</h1>
      <form noValidate onSubmit={(event) => void submit(event)} className="space-y-4" aria-busy={busy}>
        {formError !== null && <ErrorMessage message={formError} />}
        <TextField
          ref={usernameRef}
          id="username"
          name="username"
          label="Username"
          autoComplete="username"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          required
          maxLength={32}
          hint={mode === "register" ? USERNAME_RULE : undefined}
          error={errors.username}
        />
        <TextField
          ref={passwordRef}
          id="password"
          name="password"
          type="password"
          label="Password"
          autoComplete={mode === "register" ? "new-password" : "current-password"}
          required
          maxLength={128}
          hint={mode === "register" ? PASSWORD_RULE : undefined}
          error={errors.password}
        />
        {mode === "register" && (
          <TextField
            ref={confirmRef}
            id="confirm"
            name="confirm"
            type="password"
            label="Confirm password"
            autoComplete="new-password"
            required
            maxLength={128}
            error={errors.confirm}
          />
        )}
        {mode === "register" && (
          <TextField
            ref={invitationRef}
            id="invitation"
            name="invitation"
            label={signupOpen ? "Invitation code (if you have one)" : "Invitation code"}
            autoComplete="off"
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            required={!signupOpen}
            maxLength={100}
            hint={signupOpen ? undefined : "Sign-up on this server is by invitation: your instructor has the code."}
            error={errors.invitation}
          />
        )}
        <button type="submit" className="btn-primary w-full" disabled={busy}>
          {busy ? copy.busy : copy.submit}
        </button>
      </form>
      <p className="mt-6 text-center text-sm text-fg-muted">
        {copy.other.text}{" "}
        <Link href={copy.other.href} className="font-medium text-accent underline-offset-2 hover:underline">
          {copy.other.link}
        </Link>
      </p>
    </div>
  );
}
