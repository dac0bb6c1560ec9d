// Per-hook headers, secret headers and timeout from the hook form (issue 15):
// saved through the shared validation, masked on edit, kept when left masked,
// and sent with the hook's deliveries to a real receiver.
import { test, expect } from "@playwright/test";
import { api, createAccount, fillHook, hydrated, login, startReceiver } from "./helpers";

test("headers, timeout and pace from the form reach the API and deliveries; a secret header stays masked and kept on edit", async ({ page, request }) => {
  const account = createAccount("options");
  const receiver = await startReceiver(204);
  try {
    await login(page, account);
    await page.goto("/hooks/new");
    await hydrated(page);
    await fillHook(page, receiver.url, "None");
    // A header Hookrelay sets is refused by name, as you type.
    await page.getByLabel("Headers", { exact: true }).fill("Authorization: Bearer mine");
    await page.getByLabel("Headers", { exact: true }).blur();
    await expect(page.locator("#hook-headers-error")).toContainText("Authorization");
    await page.getByLabel("Headers", { exact: true }).fill("X-Tenant: acme");
    await page.getByLabel("Secret headers").fill("X-Api-Key: very-secret-1");
    await page.getByLabel("Timeout (seconds, 1–30)").fill("7");
    await page.getByLabel("Rate limit (deliveries per second)").fill("50");
    await page.getByLabel("Max in flight (attempts at once)").fill("2");
    await page.getByRole("button", { name: "Save hook" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Hook saved." })).toBeVisible();
    await expect(page.getByRole("heading", { name: /^Hook / })).toBeVisible();
    const id = page.url().split("/").pop()!;
    await expect(page.locator(".facts")).toContainText("X-Tenant");
    await expect(page.locator(".facts")).toContainText("7 s");
    await expect(page.locator(".facts")).toContainText("50/s, 2 at once");
    await expect(page.locator("body")).not.toContainText("very-secret-1");

    const stored = (await (await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).json()).hook;
    expect(stored).toMatchObject({
      headers: { "X-Tenant": "acme" }, secretHeaders: { "X-Api-Key": "*******" }, timeoutSeconds: 7, rateLimit: 50, maxInFlight: 2,
    });

    // Edit: the secret shows masked; saving it unchanged keeps the value.
    await page.getByRole("link", { name: "Edit" }).click();
    await expect(page.getByRole("heading", { name: "Edit hook" })).toBeVisible();
    await hydrated(page);
    await expect(page.getByLabel("Secret headers")).toHaveValue("X-Api-Key: *******");
    await page.getByLabel("Headers", { exact: true }).fill("X-Tenant: globex");
    await page.getByRole("button", { name: "Save hook" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Hook saved." }).last()).toBeVisible();
    await expect(page.getByRole("heading", { name: /^Hook / })).toBeVisible();
    await hydrated(page);
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect(page.locator(".delivery").first()).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
    expect(receiver.received.length).toBe(1);
    expect(receiver.received[0].headers["x-tenant"]).toBe("globex");
    expect(receiver.received[0].headers["x-api-key"]).toBe("very-secret-1");
  } finally {
    await receiver.close();
  }
});
