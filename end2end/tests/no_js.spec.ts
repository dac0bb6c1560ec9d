// The dashboard without JavaScript (SPEC §4: it works for reading): the
// login form answers a wrong password with the form again, not a JSON
// page; the filters and the edit form show their values as the server
// rendered them.
import { test, expect } from "@playwright/test";
import { api, createAccount, newHook } from "./helpers";

test.use({ javaScriptEnabled: false });

test("without JavaScript: login, filters and the edit form show what they hold", async ({ page, request }) => {
  const account = createAccount("nojs");
  const id = await newHook(request, account.apiKey, {
    endPoint: "https://example.com/no-js", authType: "oauth2", token: "tok-1", hookType: "dbs", isActiveStatus: false, _shop: "shop-n",
  });

  // A wrong password: back on the login form (a redirect, not a 401 JSON page).
  await page.goto("/login");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill("wrong password");
  const [answer] = await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Log in" }).click()]);
  expect(answer?.headers()["content-type"] ?? "").toContain("text/html");
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(page.getByLabel("Email")).toBeVisible();
  const cookies = await page.context().cookies();
  expect(cookies.some((c) => c.name === "hookrelay_session")).toBe(false);

  // The right one: the overview.
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();

  // Filters keep what they filter by.
  await page.goto("/hooks?search=no-js&active=false");
  await expect(page.getByLabel("Search endpoints")).toHaveValue("no-js");
  await expect(page.getByLabel("State")).toHaveValue("false");
  await expect(page.locator("tbody tr")).toHaveCount(1);

  // The edit form shows the stored hook (secrets masked).
  await page.goto(`/hooks/${id}/edit`);
  await expect(page.getByLabel("Endpoint URL")).toHaveValue("https://example.com/no-js");
  await expect(page.getByLabel("Authentication")).toHaveValue("oauth2");
  await expect(page.getByLabel("Shop")).toHaveValue("shop-n");
  await expect(page.getByLabel("Active (receives events)")).not.toBeChecked();
  expect(await page.content()).not.toContain("tok-1");
});
