// Unit tests for the web app's pure helpers (src/**/*.test.ts), in Node:
// `npm test`, run by `make test` before the backend's tests.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
