import Link from "next/link";

/** The wordmark, linking home (not prefetched: the IDE page should not pay for the list's code). */
export function Logo() {
  return (
    <Link href="/" prefetch={false} className={LOGO_CLASS}>
      <LogoMark />
    </Link>
  );
}

export const LOGO_CLASS = "inline-flex items-center gap-2 rounded-md text-base font-semibold tracking-tight";

/** The wordmark alone, for a page that links it without next/link (app/not-found.tsx). */
export function LogoMark() {
  return (
    <>
      <svg aria-hidden="true" viewBox="0 0 24 24" className="size-6 text-accent" fill="none">
        <rect x="2.5" y="4" width="19" height="16" rx="3" stroke="currentColor" strokeWidth="1.8" />
        <path d="m7 10 3 2.5L7 15M12.5 15H17" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <span>Sandpit</span>
    </>
  );
}
