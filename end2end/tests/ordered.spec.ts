// Ordered delivery from the dashboard (issue 15): the form's "Ordered
// delivery" switch, and on the hook's page "Blocked by <delivery>" while
// its earliest delivery fails, with "Retry now" and "Skip".
import { test, expect, type Page } from "@playwright/test";
import { api, createAccount, fillHook, hydrated, login, startReceiver } from "./helpers";

async function publish(request: any, key: string, n: number) {
  const response = await api(request, key, "POST", "/api/v1/events", { hookType: "dbs", _shop: "shop-1", data: { n } });
  expect(response.status()).toBe(202);
}

function blockedBanner(page: Page) {
  return page.getByRole("region", { name: /^Blocked by/ });
}

test("an ordered hook shows the delivery blocking it; Retry now and Skip move the queue on", async ({ page, request }) => {
  const account = createAccount("ordered");
  const receiver = await startReceiver(503);
  // The next attempt an hour away: only Retry now or Skip moves the queue.
  receiver.headers = { "retry-after": "3600" };
  try {
    await login(page, account);
    await page.goto("/hooks/new");
    await hydrated(page);
    await fillHook(page, receiver.url, "None");
    await page.getByLabel("Ordered delivery").check();
    await page.getByRole("button", { name: "Save hook" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Hook saved." })).toBeVisible();
    await expect(page.getByRole("heading", { name: /^Hook / })).toBeVisible();
    const id = page.url().split("/").pop()!;
    await expect(page.locator(".facts")).toContainText("in publish order, one at a time");
    const stored = (await (await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).json()).hook;
    expect(stored.ordered).toBe(true);

    await publish(request, account.apiKey, 0);
    await publish(request, account.apiKey, 1);
    await expect.poll(() => receiver.received.length).toBe(1);
    await page.reload();
    await hydrated(page);
    const banner = blockedBanner(page);
    await expect(banner).toBeVisible({ timeout: 15_000 });
    await expect(banner).toContainText("503");
    await expect(banner).toContainText("1 delivery waits behind it.");
    const head = await banner.locator(".blocked-delivery").textContent();
    expect(receiver.received.length).toBe(1);

    // Fixed: "Retry now" sends the head at once, then the one behind it.
    receiver.status = 204;
    receiver.headers = {};
    await banner.getByRole("button", { name: "Retry now" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Retrying it now." })).toBeVisible();
    await expect.poll(() => receiver.received.map((r) => r.body.data.n)).toEqual([0, 0, 1]);
    await expect(banner).toHaveCount(0, { timeout: 15_000 });

    // Broken again: the next head is skipped, and the event behind it goes.
    receiver.status = 503;
    receiver.headers = { "retry-after": "3600" };
    await publish(request, account.apiKey, 2);
    await publish(request, account.apiKey, 3);
    await expect.poll(() => receiver.received.length).toBe(4);
    await page.reload();
    await hydrated(page);
    await expect(banner).toBeVisible({ timeout: 15_000 });
    const second = await banner.locator(".blocked-delivery").textContent();
    expect(second).not.toBe(head);
    receiver.status = 204;
    receiver.headers = {};
    await banner.getByRole("button", { name: "Skip" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Skipped: the next delivery goes ahead." })).toBeVisible();
    await expect.poll(() => receiver.received.map((r) => r.body.data.n)).toEqual([0, 0, 1, 2, 3]);
    await expect(banner).toHaveCount(0, { timeout: 15_000 });
    const skipped = page.locator(`.delivery[data-delivery-id="${second}"]`);
    await expect(skipped).toHaveAttribute("data-status", "failed", { timeout: 15_000 });
    await expect(skipped).toContainText("skipped by hand");
  } finally {
    await receiver.close();
  }
});
