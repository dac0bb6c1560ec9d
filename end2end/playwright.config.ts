import { defineConfig } from "@playwright/test";

// The server is started by scripts/test (a fresh binary, free port, temp
// database) and its address passed in BASE_URL. Chromium is Debian's: never
// `npx playwright install`.
export default defineConfig({
  testDir: "./tests",
  // The one-file check runs alone, against the release binary (scripts/one-file-check).
  ...(process.env.HOOKRELAY_ONE_FILE ? { testMatch: "**/one_file.spec.ts" } : { testIgnore: "**/one_file.spec.ts" }),
  timeout: 30_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  reporter: "list",
  outputDir: "./test-results",
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium" }],
});
