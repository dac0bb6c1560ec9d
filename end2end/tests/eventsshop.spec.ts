// EventsShop hooks from the dashboard follow the REST rules (issue 11):
// Basic Auth gets a token Hookrelay makes, shown once; an edit keeps it;
// deliveries send it as x-hook-token.
import { test, expect } from "@playwright/test";
import { api, createAccount, hydrated, login, startReceiver } from "./helpers";

test("an EventsShop Basic Auth hook made in the dashboard gets its token once, and an edit keeps it", async ({ page, request }) => {
  const account = createAccount("es-basic", "eventsshop");
  const receiver = await startReceiver();
  await login(page, account);
  await page.goto("/hooks/new");
  await hydrated(page);
  await page.getByLabel("Endpoint URL").fill(receiver.url);
  await page.getByLabel("Authentication").selectOption({ label: "Basic Auth" });
  await page.getByLabel("User name").fill("acme");
  await page.getByLabel("Password", { exact: true }).fill("s3cret-pass");
  await page.getByRole("button", { name: "Save hook" }).click();

  // Shown once, right after saving.
  const shown = page.getByTestId("generated-token");
  await expect(shown).toBeVisible();
  const token = ((await shown.textContent()) ?? "").trim();
  expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  await page.getByRole("link", { name: "Go to the hook" }).click();
  await expect(page.getByRole("heading", { name: /^Hook / })).toBeVisible();
  await hydrated(page);
  const id = new URL(page.url()).pathname.split("/")[2];
  await expect(page.getByText("generated (hidden; sent as x-hook-token)")).toBeVisible();
  expect(await page.content()).not.toContain(token);

  // REST sees the same hook: Basic Auth with a (masked) token.
  const got = await (await api(request, account.apiKey, "GET", `/endpoint/${id}`)).json();
  expect(got.endpoint.authType).toBe("Basic Auth");
  expect(got.endpoint.token).toBe("*******");

  // Deliveries carry it.
  await page.getByRole("button", { name: "Send test event" }).click();
  await expect.poll(() => receiver.received.length).toBeGreaterThan(0);
  expect(receiver.received[0].headers["x-hook-token"]).toBe(token);
  expect(receiver.received[0].headers["authorization"]).toBe(`Basic ${Buffer.from("acme:s3cret-pass").toString("base64")}`);

  // An edit keeps the token (and shows no new one).
  await page.goto(`/hooks/${id}/edit`);
  await hydrated(page);
  await page.getByLabel("Endpoint URL").fill(`${receiver.url}?edited=1`);
  await page.getByRole("button", { name: "Save hook" }).click();
  await expect(page.getByRole("heading", { name: /^Hook / })).toBeVisible();
  await hydrated(page);
  await page.getByRole("button", { name: "Send test event" }).click();
  await expect.poll(() => receiver.received.length).toBeGreaterThan(1);
  expect(receiver.received[1].headers["x-hook-token"]).toBe(token);
  await receiver.close();
});
