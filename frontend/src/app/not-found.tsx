import { LOGO_CLASS, LogoMark } from "@/components/Logo";

// Plain links, not next/link: this page is the root layout's not-found
// boundary, so a next/link here would be a client reference in every page's
// first download (a second copy of next/link's chunk on the workspace page).
export default function NotFound() {
  return (
    <main className="flex flex-1 flex-col items-center justify-center gap-6 px-4 py-16 text-center">
      <a href="/" className={LOGO_CLASS}>
        <LogoMark />
      </a>
      <h1 className="text-xl font-semibold">Page not found</h1>
      <p className="text-sm text-fg-muted">There is nothing at this address.</p>
      <a href="/" className="btn-primary">
        Go to your workspaces
      </a>
    </main>
  );
}
