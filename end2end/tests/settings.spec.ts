// The settings page: an account sets, reveals the secret of, and removes
// its operations endpoint (issue 15); the REST API agrees at each step.
import { test, expect } from "@playwright/test";
import { api, createAccount, hydrated, login } from "./helpers";

test("the operations endpoint is set, its secret revealed, and removed from the settings page", async ({ page, request }) => {
  const account = createAccount("settings");
  await login(page, account);
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  await hydrated(page);

  await page.getByLabel("Operations endpoint URL").fill("not a url");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "absolute" })).toBeVisible();

  await page.getByLabel("Operations endpoint URL").fill("https://ops.example.com/hookrelay");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Operations endpoint saved." })).toBeVisible();
  const stored = (await (await api(request, account.apiKey, "GET", "/api/v1/account/operations")).json()).operations;
  expect(stored.endpoint).toBe("https://ops.example.com/hookrelay");
  await page.getByRole("button", { name: "Reveal secret" }).click();
  await expect(page.getByTestId("operations-secret")).toHaveText(stored.secret);

  await page.getByRole("button", { name: "Remove endpoint" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Operations endpoint removed." })).toBeVisible();
  await expect(page.getByRole("button", { name: "Remove endpoint" })).toHaveCount(0);
  const removed = (await (await api(request, account.apiKey, "GET", "/api/v1/account/operations")).json()).operations;
  expect(removed).toEqual({ endpoint: null, secret: null });
});
