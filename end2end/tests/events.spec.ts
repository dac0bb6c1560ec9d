// The event log and "Retry all failed since…" (issue 15): real server, real
// Chromium, receivers on 127.0.0.1. Each test makes its own account.
import { test, expect } from "@playwright/test";
import { api, createAccount, hydrated, login, newHook, startReceiver } from "./helpers";

async function createHook(request: any, apiKey: string, url: string, shop: string): Promise<string> {
  return newHook(request, apiKey, { endPoint: url, hookType: "dbs", isActiveStatus: true, _shop: shop });
}

async function publish(request: any, apiKey: string, body: unknown): Promise<string> {
  const res = await api(request, apiKey, "POST", "/api/v1/events", body);
  expect(res.status()).toBe(202);
  return (await res.json()).id;
}

test("the event log lists events with filters; an event shows its data and its deliveries' attempts", async ({ page, request }) => {
  const account = createAccount("eventlog");
  const receiver = await startReceiver(204);
  try {
    const hookId = await createHook(request, account.apiKey, receiver.url, "s1");
    const first = await publish(request, account.apiKey, { hookType: "dbs", _shop: "s1", data: { fare: 123.4, route: "LHR-JFK" } });
    const second = await publish(request, account.apiKey, { hookType: "dbs", _shop: "s2", data: { fare: 99 } });
    await login(page, account);
    await page.getByRole("link", { name: "Events" }).click();
    await expect(page.getByRole("heading", { name: "Events" })).toBeVisible();
    await hydrated(page);
    const rows = page.locator("tbody tr");
    await expect(rows).toHaveCount(2);
    await expect(page.locator(`tr[data-event-id="${first}"]`)).toBeVisible();
    await expect(page.locator(`tr[data-event-id="${second}"]`)).toBeVisible();
    await expect(page.getByText("2 events · page 1 of 1")).toBeVisible();

    // Filters live in the URL.
    await page.getByLabel("Shop").fill("s1");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/shop=s1/);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute("data-event-id", first);
    await page.screenshot({ path: "screenshots/events.png", fullPage: true });

    await rows.first().getByRole("link", { name: first }).click();
    await expect(page.getByRole("heading", { name: `Event ${first}` })).toBeVisible();
    await hydrated(page);
    const data = page.getByTestId("event-data");
    await expect(data).toContainText('"fare": 123.4');
    await expect(data).toContainText('"route": "LHR-JFK"');
    const delivery = page.locator(".delivery").first();
    await expect(delivery).toHaveAttribute("data-status", /succeeded|pending/);
    await expect(async () => {
      await page.reload();
      await expect(page.locator(".delivery").first()).toHaveAttribute("data-status", "succeeded", { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    await expect(page.locator(".delivery tr.attempt")).toContainText("204");
    // The delivery links to its hook's log.
    await page.locator(".delivery").first().getByRole("link", { name: hookId }).click();
    await expect(page.getByRole("heading", { name: `Hook ${hookId}` })).toBeVisible();
    await expect(page.locator(".delivery").first().getByRole("link", { name: first })).toBeVisible();

    // Another account's event is not found, on the page and to a direct call.
    const other = createAccount("eventlog-other");
    const theirs = await publish(request, other.apiKey, { hookType: "dbs", data: { theirs: true } });
    const response = await page.goto(`/events/${theirs}`);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
    expect(response?.status()).toBe(404);
    await expect(page.locator("body")).not.toContainText("theirs");
  } finally {
    await receiver.close();
  }
});

test("Retry all failed since… queues the hook's failed deliveries again and they succeed", async ({ page, request }) => {
  const account = createAccount("recover");
  const receiver = await startReceiver(500);
  try {
    const hookId = await createHook(request, account.apiKey, receiver.url, "s");
    const events = [
      await publish(request, account.apiKey, { hookType: "dbs", _shop: "s", data: { n: 1 } }),
      await publish(request, account.apiKey, { hookType: "dbs", _shop: "s", data: { n: 2 } }),
    ];
    await login(page, account);
    await page.goto(`/hooks/${hookId}`);
    await hydrated(page);
    const deliveries = page.locator(".delivery");
    await expect(deliveries).toHaveCount(2);
    await expect(deliveries.nth(0)).toHaveAttribute("data-status", "failed", { timeout: 15_000 });
    await expect(deliveries.nth(1)).toHaveAttribute("data-status", "failed", { timeout: 15_000 });
    const before = receiver.received.length; // two attempts each (--retry-schedule 0s,300ms)

    receiver.status = 200;
    const hourAgoUtc = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
    await page.getByLabel("Failed since (UTC)").fill(hourAgoUtc);
    await page.getByRole("button", { name: "Retry all failed since…" }).click();
    await expect(page.getByRole("status").filter({ hasText: "2 failed deliveries queued again." })).toBeVisible();
    await expect(deliveries.nth(0)).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
    await expect(deliveries.nth(1)).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
    const again = receiver.received.slice(before).map((r) => r.headers["webhook-id"]);
    expect(new Set(again)).toEqual(new Set(events));
    expect(again.length).toBe(2);

    // A time more than 14 days back is refused with the reason.
    await page.getByLabel("Failed since (UTC)").fill("2020-01-01T00:00");
    await page.getByRole("button", { name: "Retry all failed since…" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "within the last 14 days" })).toBeVisible();
  } finally {
    await receiver.close();
  }
});
