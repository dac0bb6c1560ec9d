// A hook Hookrelay switched off (its endpoint answered 410 Gone) shows a
// banner with the reason and "Enable again", which switches it back on.
import { test, expect } from "@playwright/test";
import { api, createAccount, hydrated, login, startReceiver } from "./helpers";

test("a hook disabled by a 410 shows why, and Enable again switches it back on", async ({ page, request }) => {
  const account = createAccount("disabled");
  const receiver = await startReceiver(410);
  try {
    const created = await api(request, account.apiKey, "POST", "/api/v1/hook", {
      endPoint: receiver.url, hookType: "dbs", isActiveStatus: true, _shop: "s",
    });
    const id = (await created.json()).hook.id;
    expect((await api(request, account.apiKey, "POST", `/api/v1/hook/${id}/test`)).status()).toBe(202);
    await expect(async () => {
      const hook = (await (await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).json()).hook;
      expect(hook.isActiveStatus).toBe(false);
      expect(hook.disabledReason).toContain("410");
    }).toPass({ timeout: 15_000 });

    await login(page, account);
    await page.goto(`/hooks/${id}`);
    await hydrated(page);
    const banner = page.locator(".disabled-banner");
    await expect(banner).toContainText("Disabled by Hookrelay");
    await expect(banner).toContainText("410");
    await banner.getByRole("button", { name: "Enable again" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Hook enabled again." })).toBeVisible();
    await expect(banner).toHaveCount(0);
    await expect(page.locator(".facts")).toContainText(/State\s*active/);
    const hook = (await (await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).json()).hook;
    expect(hook.isActiveStatus).toBe(true);
    expect(hook.disabledReason).toBeNull();
  } finally {
    await receiver.close();
  }
});
