// Shared helpers for the dashboard tests: accounts made with the real
// `hookrelay user create`, login through the form, loopback receivers and
// REST calls with an account's API key.
import { execFileSync } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:3000";
let counter = 0;

export interface Account {
  email: string;
  password: string;
  apiKey: string;
}

/** A new account (unique email) and its first API key, via the CLI against the test database. */
export function createAccount(prefix: string, vertical = "flightrates"): Account {
  counter += 1;
  const email = `${prefix}-${Date.now()}-${counter}@example.com`;
  const password = "correct horse battery";
  const bin = process.env.HOOKRELAY_BIN;
  if (!bin || !process.env.DATABASE_URL) throw new Error("HOOKRELAY_BIN and DATABASE_URL must be set (scripts/e2e does)");
  const apiKey = execFileSync(bin, ["user", "create", "--email", email, "--vertical", vertical], {
    env: { ...process.env, HOOKRELAY_USER_PASSWORD: password },
    encoding: "utf8",
  }).trim();
  return { email, password, apiKey };
}

/** Waits until the WASM has taken over the page. */
export async function hydrated(page: Page): Promise<void> {
  await page.locator("body[data-hydrated=true]").waitFor();
}

export async function login(page: Page, account: Account): Promise<void> {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(account.email);
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await hydrated(page);
}

export interface Receiver {
  url: string;
  /** Each request's body, parsed. */
  received: Array<{ headers: http.IncomingHttpHeaders; body: any }>;
  /** The status the next requests get. */
  status: number;
  /** Headers the next answers carry (e.g. Retry-After). */
  headers: Record<string, string>;
  close(): Promise<void>;
}

/** An HTTP receiver on 127.0.0.1 answering `status` (204 by default). */
export async function startReceiver(status = 204): Promise<Receiver> {
  const receiver: Receiver = {
    url: "",
    received: [],
    status,
    headers: {},
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => {
      let body: any = data;
      try {
        body = JSON.parse(data);
      } catch {}
      receiver.received.push({ headers: req.headers, body });
      res.statusCode = receiver.status;
      for (const [name, value] of Object.entries(receiver.headers)) res.setHeader(name, value);
      res.end(receiver.status >= 400 ? "receiver says no" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/hook`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}

/** A REST call with an API key. */
export async function api(request: APIRequestContext, key: string, method: string, path: string, data?: unknown) {
  return request.fetch(`${BASE_URL}${path}`, {
    method,
    headers: { Authorization: key, "content-type": "application/json" },
    data: data === undefined ? undefined : JSON.stringify(data),
  });
}

/** Creates a hook with `POST /api/v1/hook` (it must answer 200); returns its id. */
export async function newHook(request: APIRequestContext, key: string, body: Record<string, unknown>): Promise<string> {
  const created = await api(request, key, "POST", "/api/v1/hook", body);
  expect(created.status()).toBe(200);
  return (await created.json()).hook.id;
}

/** Fills the hook form's common fields. */
export async function fillHook(page: Page, endpoint: string, auth: string, shop = "shop-1") {
  await page.getByLabel("Endpoint URL").fill(endpoint);
  await page.getByLabel("Authentication").selectOption({ label: auth });
  await page.getByLabel("Shop").fill(shop);
}
