// The dashboard hydrates under its Content-Security-Policy and the browser
// reports no violation (issue 13).
import { test, expect } from "@playwright/test";
import { createAccount, hydrated, login } from "./helpers";

test("pages hydrate under the Content-Security-Policy with no violation", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  page.on("pageerror", (error) => violations.push(error.message));
  const account = createAccount("csp", "flightrates");
  const response = await page.goto("/login");
  expect(response?.headers()["content-security-policy"]).toContain("'nonce-");
  await hydrated(page);
  await login(page, account);
  for (const path of ["/", "/hooks", "/hooks/new", "/keys"]) {
    await page.goto(path);
    await hydrated(page);
  }
  // Client-side navigation after hydration works too.
  await page.getByRole("link", { name: "Hooks" }).first().click();
  await expect(page).toHaveURL(/\/hooks$/);
  expect(violations).toEqual([]);
});
