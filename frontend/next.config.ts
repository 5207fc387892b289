import type { NextConfig } from "next";
import { PHASE_DEVELOPMENT_SERVER } from "next/constants";

// The production build is a static export (out/) that the FastAPI server serves
// on the same origin as /api. Nothing here may need a Node server at run time.
//
// `next dev` cannot proxy while `output: "export"` is set, so the dev server
// drops it and forwards /api to the backend instead (SANDPIT_API_URL, default
// http://127.0.0.1:3001). The browser then still sees one origin, which the
// httpOnly session cookie needs.
export default function config(phase: string): NextConfig {
  const base: NextConfig = {
    trailingSlash: true,
    images: { unoptimized: true },
    reactStrictMode: true,
    poweredByHeader: false,
  };
  if (phase !== PHASE_DEVELOPMENT_SERVER) {
    return { ...base, output: "export" };
  }
  const api = (process.env.SANDPIT_API_URL ?? "http://127.0.0.1:3001").replace(/\/+$/, "");
  return {
    ...base,
    // With trailingSlash, Next would redirect /api/x to /api/x/ before the
    // rewrite; FastAPI routes have no trailing slash.
    skipTrailingSlashRedirect: true,
    async rewrites() {
      return [{ source: "/api/:path*", destination: `${api}/api/:path*` }];
    },
  };
}
