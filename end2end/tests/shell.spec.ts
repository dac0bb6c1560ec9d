import { test, expect, type ConsoleMessage } from "@playwright/test";
import { createAccount, login } from "./helpers";

test("the dashboard is server-rendered, then hydrated and interactive", async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(err.message));

  // Server-rendered first: the raw HTML already holds the layout and the status.
  const raw = await page.request.get("/");
  expect(raw.status()).toBe(200);
  const html = await raw.text();
  expect(html).toContain("Hookrelay");
  expect(html).toContain("Service status");
  // The bundle: /pkg/hookrelay.js from a directory, hashed when inside the binary.
  expect(html).toMatch(/\/pkg\/hookrelay(\.[0-9a-f]{16})?\.js/);

  await login(page, createAccount("shell"));
  await expect(page).toHaveTitle(/Hookrelay/);
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("database-status")).toHaveText("reachable");
  await expect(page.getByTestId("check-count")).toHaveText("1");

  // The button only works once the WASM has taken over the page.
  await page.locator("body[data-hydrated=true]").waitFor();
  await page.getByRole("button", { name: "Check again" }).click();
  await expect(page.getByTestId("check-count")).toHaveText("2");
  await page.getByRole("button", { name: "Check again" }).press("Enter");
  await expect(page.getByTestId("check-count")).toHaveText("3");
  await expect(page.getByTestId("database-status")).toHaveText("reachable");

  expect(consoleErrors).toEqual([]);
});

test("an unknown page answers 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to the overview" })).toHaveAttribute("href", "/");
});
