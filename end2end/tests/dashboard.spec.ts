// The dashboard end to end (issue 5): real server, real SQLite, real
// Chromium, receivers on 127.0.0.1. Each test makes its own account.
import { test, expect } from "@playwright/test";
import { api, BASE_URL, createAccount, fillHook, hydrated, login, newHook, startReceiver } from "./helpers";

test("login: a wrong password shows an error and opens no session; the right one does; logout ends it", async ({ page, context }) => {
  const account = createAccount("login");
  await page.goto("/hooks");
  await expect(page).toHaveURL(/\/login$/); // no session: every page sends you to the login form
  await hydrated(page);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("Wrong email or password");
  expect((await context.cookies()).filter((c) => c.name === "hookrelay_session")).toEqual([]);

  await login(page, account);
  const [cookie] = (await context.cookies()).filter((c) => c.name === "hookrelay_session");
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.sameSite).toBe("Strict");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await context.cookies()).filter((c) => c.name === "hookrelay_session" && c.value !== "")).toEqual([]);
  // The old cookie value is dead on the server too.
  const replay = await page.request.post("/_rpc/overview", { headers: { cookie: `hookrelay_session=${cookie.value}` } });
  expect(replay.status()).toBe(401);
});

test("create a hook for each auth type; field errors show before submit; a forged request is refused", async ({ page, request }) => {
  const account = createAccount("form");
  await login(page, account);
  await page.getByRole("link", { name: "Hooks" }).click();
  await page.getByRole("link", { name: "New hook" }).click();
  await expect(page.getByRole("heading", { name: "New hook" })).toBeVisible();
  await hydrated(page);

  // Bad URL: the shared validation (WASM) speaks as soon as the field is left.
  await page.getByLabel("Endpoint URL").fill("//my-hook");
  await page.getByLabel("Endpoint URL").blur();
  await expect(page.locator("#hook-endpoint-error")).toContainText("absolute");
  await expect(page.getByLabel("Endpoint URL")).toHaveAttribute("aria-invalid", "true");
  // The WASM parses with the browser's URL parser: each rule still speaks,
  // with the words the server uses, and an internationalised host passes.
  for (const [url, words] of [
    ["ftp://example.com/x", "must use http or https, not `ftp`"],
    ["https://user:pw@example.com/x", "must not contain a user name or password"],
    ["https://alice@example.com/x", "must not contain a user name or password"],
    ["mailto:ops@example.com", "must use http or https, not `mailto`"],
  ]) {
    // As you type: no need to leave the field.
    await page.getByLabel("Endpoint URL").fill(url);
    await expect(page.locator("#hook-endpoint-error")).toContainText(words);
    await expect(page.getByLabel("Endpoint URL")).toBeFocused();
  }
  await page.getByLabel("Endpoint URL").fill("https://bücher.example/hook");
  await page.getByLabel("Endpoint URL").blur();
  await expect(page.getByLabel("Endpoint URL")).not.toHaveAttribute("aria-invalid", "true");
  // Missing credentials: Basic needs a user name and a password.
  await page.getByLabel("Authentication").selectOption({ label: "Basic Auth" });
  await page.getByRole("button", { name: "Save hook" }).click();
  await expect(page.locator("#hook-username-error")).toContainText("required");
  await expect(page.locator("#hook-password-error")).toContainText("required");
  await expect(page).toHaveURL(/\/hooks\/new$/); // nothing was sent
  await page.screenshot({ path: "screenshots/form.png", fullPage: true });

  const cases = [
    { auth: "None", fill: async () => {} },
    {
      auth: "Basic Auth",
      fill: async () => {
        await page.getByLabel("User name").fill("alice");
        await page.getByLabel("Password", { exact: true }).fill("s3cret-pass");
      },
    },
    { auth: "OAuth 2.0 bearer token", fill: async () => page.getByLabel("Bearer token").fill("oauth-token-1") },
    {
      auth: "JWT (HS256)",
      fill: async () => {
        await page.getByLabel("User ID (JWT subject)").fill("user-42");
        await page.getByLabel("JWT signing secret").fill("jwt-secret-1");
      },
    },
  ];
  for (const [i, c] of cases.entries()) {
    await page.goto("/hooks/new");
    await hydrated(page);
    await fillHook(page, `https://example.com/form-${i}`, c.auth);
    await c.fill();
    await page.getByRole("button", { name: "Save hook" }).click();
    await expect(page.getByRole("heading", { name: /^Hook / })).toBeVisible();
    await expect(page.getByRole("status").filter({ hasText: "Hook saved." })).toBeVisible();
  }
  const listed = await (await api(request, account.apiKey, "GET", "/api/v1/hooks?size=10")).json();
  const byEndpoint = Object.fromEntries(listed.hooks.map((h: any) => [h.endPoint, h]));
  expect(byEndpoint["https://example.com/form-0"].authType).toBe("none");
  expect(byEndpoint["https://example.com/form-1"]).toMatchObject({ authType: "basic", userId: "alice", pwdTxt: "*******" });
  expect(byEndpoint["https://example.com/form-2"]).toMatchObject({ authType: "oauth2", token: "*******" });
  expect(byEndpoint["https://example.com/form-3"]).toMatchObject({ authType: "jwt", userId: "user-42", token: "*******" });

  // A request that skips the browser's check gets the server's field errors and stores nothing.
  const forgedForm = {
    endpoint: "ftp://nope", auth_type: "basic", username: "", password: "", token: "", hook_type: "dbs", shop: "s", is_active: true,
    headers: "", secret_headers: "", timeout_seconds: "", rate_limit: "", max_in_flight: "",
  };
  const forged = await page.request.post("/_rpc/save_hook", { data: { id: null, form: forgedForm } });
  expect(forged.status()).toBe(200);
  const outcome = await forged.json();
  const fields = outcome.Invalid.map((e: any) => e.field);
  expect(fields).toEqual(expect.arrayContaining(["endPoint", "userId", "pwdTxt"]));
  // Without a session, or from another site, nothing gets through.
  const anonymous = await request.post(`${BASE_URL}/_rpc/save_hook`, { data: { id: null, form: forgedForm } });
  expect(anonymous.status()).toBe(401);
  expect(await anonymous.json()).toEqual({ kind: "notSignedIn" });
  const unreadable = await page.request.post("/_rpc/save_hook", { data: { id: null, form: {} } });
  expect(unreadable.status()).toBe(400);
  const crossSite = await page.request.post("/_rpc/list_keys", { headers: { origin: "https://evil.example" } });
  expect(crossSite.status()).toBe(403);
  const after = await (await api(request, account.apiKey, "GET", "/api/v1/hooks")).json();
  expect(after.totalData).toBe(4);
});

test("the list matches the API; toggle, edit and delete (with confirmation) show in the API", async ({ page, request }) => {
  const account = createAccount("list");
  const id = await newHook(request, account.apiKey, {
    endPoint: "https://example.com/listed", authType: "oauth2", token: "tok-1", hookType: "dbs", isActiveStatus: true, _shop: "shop-a",
  });
  await api(request, account.apiKey, "POST", "/api/v1/hook", {
    endPoint: "https://example.com/other", hookType: "dbs", isActiveStatus: false, _shop: "shop-b",
  });

  await login(page, account);
  await page.goto("/hooks");
  await hydrated(page);
  const row = page.locator(`tr[data-hook-id="${id}"]`);
  await expect(row).toContainText("https://example.com/listed");
  await expect(row).toContainText("shop-a");
  await expect(page.locator("tbody tr")).toHaveCount(2);
  await page.screenshot({ path: "screenshots/hooks.png", fullPage: true });

  // Filters and search live in the URL.
  await page.getByLabel("Search endpoints").fill("listed");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/search=listed/);
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await page.getByLabel("State").selectOption("false");
  await page.getByLabel("Search endpoints").fill("");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(page.locator("tbody tr")).toContainText("https://example.com/other");
  await page.goto("/hooks");
  await hydrated(page);

  // Toggle active.
  const toggle = row.getByRole("switch", { name: "Active: https://example.com/listed" });
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await toggle.focus();
  await page.keyboard.press("Space"); // a real button: keyboard works
  await expect(page.getByRole("status").filter({ hasText: "Hook deactivated." })).toBeVisible();
  await expect(row.getByRole("switch")).toHaveAttribute("aria-checked", "false");
  let hook = (await (await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).json()).hook;
  expect(hook.isActiveStatus).toBe(false);

  // Edit: the stored token stays unless retyped.
  await row.getByRole("link", { name: "https://example.com/listed" }).click();
  await page.getByRole("link", { name: "Edit" }).click();
  await expect(page.getByRole("heading", { name: "Edit hook" })).toBeVisible();
  await hydrated(page);
  // The form built in the browser shows the stored choices, not the first option.
  await expect(page.getByLabel("Authentication")).toHaveValue("oauth2");
  await expect(page.getByLabel("Bearer token")).toBeVisible();
  await expect(page.getByLabel("Hook type")).toHaveValue("dbs");
  await expect(page.getByLabel("Endpoint URL")).toHaveValue("https://example.com/listed");
  await page.getByLabel("Endpoint URL").fill("https://example.com/edited");
  await page.getByLabel("Active (receives events)").check();
  await page.getByRole("button", { name: "Save hook" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Hook saved." })).toBeVisible();
  hook = (await (await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).json()).hook;
  expect(hook).toMatchObject({ endPoint: "https://example.com/edited", isActiveStatus: true, token: "*******", authType: "oauth2" });

  // Delete asks first; a keyboard user keeps their place: the dialog's
  // Cancel takes the focus, Escape closes it, the focus comes back.
  await page.getByRole("button", { name: "Delete hook" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("alertdialog")).toContainText("Delete this hook?");
  await expect(page.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("alertdialog")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete hook" })).toBeFocused();
  await page.getByRole("button", { name: "Delete hook" }).click();
  await expect(page.getByRole("alertdialog")).toContainText("Delete this hook?");
  await page.getByRole("button", { name: "Cancel" }).click();
  expect((await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).status()).toBe(200);
  await page.getByRole("button", { name: "Delete hook" }).click();
  await page.getByRole("button", { name: "Yes, delete" }).click();
  await expect(page).toHaveURL(/\/hooks$/);
  expect((await api(request, account.apiKey, "GET", `/api/v1/hook/${id}`)).status()).toBe(404);
});

test("send test event succeeds; a failing receiver shows failed attempts, and Retry after recovery succeeds", async ({ page, request }) => {
  const account = createAccount("deliver");
  const good = await startReceiver(204);
  const bad = await startReceiver(500);
  try {
    const mk = async (url: string) =>
      (await (await api(request, account.apiKey, "POST", "/api/v1/hook", { endPoint: url, hookType: "dbs", isActiveStatus: true, _shop: "s" })).json()).hook.id;
    const goodId = await mk(good.url);
    const badId = await mk(bad.url);
    await login(page, account);

    await page.goto(`/hooks/${goodId}`);
    await hydrated(page);
    await page.getByRole("button", { name: "Reveal" }).click();
    await expect(page.getByTestId("signing-secret")).toContainText("whsec_");
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Test event" })).toBeVisible();
    const delivered = page.locator(".delivery").first();
    await expect(delivered).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
    await expect(delivered.locator("tr.attempt")).toHaveCount(1);
    await expect(delivered.locator("tr.attempt")).toContainText("204");
    expect(good.received.length).toBe(1);
    expect(good.received[0].headers["webhook-signature"]).toMatch(/^v1,/);
    await page.screenshot({ path: "screenshots/detail.png", fullPage: true });

    await page.goto(`/hooks/${badId}`);
    await hydrated(page);
    await page.getByRole("button", { name: "Send test event" }).click();
    const failing = page.locator(".delivery").first();
    await expect(failing).toHaveAttribute("data-status", "failed", { timeout: 15_000 });
    await expect(failing.locator("tr.attempt")).toHaveCount(2); // --retry-schedule 0s,300ms
    await expect(failing.locator("tr.attempt").first()).toContainText("500");
    await expect(failing).toContainText("the endpoint answered HTTP 500");

    bad.status = 200;
    await failing.getByRole("button", { name: "Retry" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Delivery queued again." })).toBeVisible();
    await expect(failing).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
    await expect(failing.locator("tr.attempt")).toHaveCount(3);
    expect(new Set(bad.received.map((r) => r.headers["webhook-id"])).size).toBe(1);

    // The overview counts what happened.
    await page.getByRole("link", { name: "Overview" }).click();
    await expect(page.getByTestId("succeeded-24h")).toHaveText("2");
    await expect(page.getByTestId("hooks-active")).toHaveText("2");
    await expect(page.getByTestId("delivery-chart")).toBeVisible();
    await page.screenshot({ path: "screenshots/overview.png", fullPage: true });
  } finally {
    await good.close();
    await bad.close();
  }
});

test("an API key made in the UI works on the REST API until it is revoked", async ({ page, request }) => {
  const account = createAccount("keys");
  await login(page, account);
  await page.getByRole("link", { name: "API keys" }).click();
  await hydrated(page);
  await page.getByLabel("Name").fill("from the dashboard");
  await page.getByLabel("Name").press("Enter"); // the keyboard is enough
  await expect(page.getByRole("status").filter({ hasText: "API key created." })).toBeVisible();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key.length).toBeGreaterThan(20);
  expect((await api(request, key, "GET", "/api/v1/hooks")).status()).toBe(200);

  const row = page.locator("tbody tr").filter({ hasText: "from the dashboard" });
  await row.getByRole("button", { name: /Revoke key/ }).click();
  await expect(page.getByRole("status").filter({ hasText: "API key revoked." })).toBeVisible();
  await expect(row).toContainText("revoked");
  expect((await api(request, key, "GET", "/api/v1/hooks")).status()).toBe(401);
  // The page never shows the key again.
  await page.reload();
  await expect(page.locator("body")).not.toContainText(key);
});

test("another account's hooks never show, and their ids open a not-found page", async ({ page, request }) => {
  const mine = createAccount("mine");
  const theirs = createAccount("theirs");
  const theirHook = (await (await api(request, theirs.apiKey, "POST", "/api/v1/hook", {
    endPoint: "https://example.com/theirs", hookType: "dbs", isActiveStatus: true, _shop: "s",
  })).json()).hook.id;
  await login(page, mine);
  await page.goto("/hooks");
  await hydrated(page);
  await expect(page.getByText("No hooks match.")).toBeVisible();
  await expect(page.locator("body")).not.toContainText("https://example.com/theirs");

  const response = await page.goto(`/hooks/${theirHook}`);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator("body")).not.toContainText("https://example.com/theirs");
  expect(response?.status()).toBe(404);
  await page.goto(`/hooks/${theirHook}/edit`);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  const call = await page.request.post("/_rpc/reveal_secret", { form: { id: theirHook } });
  expect(call.status()).toBe(404);
});

test("the layout holds on a 375 px phone and a 1440 px desktop", async ({ page }) => {
  const account = createAccount("layout");
  for (const width of [375, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await login(page, account);
    for (const path of ["/", "/hooks", "/hooks/new", "/events", "/keys", "/settings"]) {
      await page.goto(path);
      await hydrated(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${path} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
    }
    if (width === 375) await page.screenshot({ path: "screenshots/phone.png", fullPage: true });
  }
});

test("a page past the end of the list says so and links to the last page", async ({ page, request }) => {
  const account = createAccount("pastend");
  const id = await newHook(request, account.apiKey, {
    endPoint: "https://example.com/only", hookType: "dbs", isActiveStatus: true, _shop: "shop-z",
  });
  await login(page, account);
  await page.goto("/hooks?page=99&shop=shop-z");
  await hydrated(page);
  await expect(page.getByText("Page 99 is past the last page.")).toBeVisible();
  await expect(page.getByText("No hooks match")).toHaveCount(0);
  await page.getByRole("link", { name: "Go to page 1" }).click();
  await expect(page).toHaveURL(/\/hooks\?page=1&shop=shop-z$/);
  await expect(page.locator(`tr[data-hook-id="${id}"]`)).toContainText("https://example.com/only");
  // A filter nothing matches is still "no hooks match".
  await page.goto("/hooks?page=2&shop=no-such-shop");
  await expect(page.getByText("No hooks match")).toBeVisible();
});
