// The release binary alone (scripts/one-file-check copies it into an empty
// directory): the dashboard it carries loads and hydrates, and its files
// are served as a CDN would — right types, strong ETags, a year of cache
// for the content-hashed bundle, brotli or gzip when asked for.
import { expect, test } from "@playwright/test";
import { createAccount, hydrated, login } from "./helpers";

test("the dashboard inside the binary hydrates and logs in", async ({ page }) => {
  const failed: string[] = [];
  page.on("response", (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  await login(page, createAccount("onefile"));
  await expect(page.locator("body")).toHaveCSS("margin", "0px");
  expect(failed).toEqual([]);
});

test("the bundle is content-hashed, typed, compressed and cached for a year", async ({ page, request }) => {
  await page.goto("/login");
  await hydrated(page);
  const js = await page.locator('link[rel="modulepreload"]').getAttribute("href");
  const wasm = await page.locator('link[rel="preload"][as="fetch"]').getAttribute("href");
  const css = await page.locator('link[rel="stylesheet"]').getAttribute("href");
  for (const [url, type] of [
    [js, "text/javascript; charset=utf-8"],
    [wasm, "application/wasm"],
    [css, "text/css; charset=utf-8"],
  ] as const) {
    expect(url).toMatch(/^\/pkg\/hookrelay\.[0-9a-f]{16}\.(js|wasm|css)$/);
    const plain = await request.get(url!, { headers: { "accept-encoding": "identity" } });
    expect(plain.status()).toBe(200);
    expect(plain.headers()["content-type"]).toBe(type);
    expect(plain.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(plain.headers()["content-encoding"]).toBeUndefined();
    const etag = plain.headers()["etag"];
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    const br = await request.get(url!, { headers: { "accept-encoding": "gzip, br" } });
    expect(br.headers()["content-encoding"]).toBe("br");
    expect(br.headers()["vary"]).toBe("accept-encoding");
    expect(br.headers()["etag"]).not.toBe(etag);
    const gz = await request.get(url!, { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers()["content-encoding"]).toBe("gzip");
    // The body decompresses to the same bytes.
    expect((await gz.body()).equals(await plain.body())).toBe(true);

    const again = await request.get(url!, { headers: { "accept-encoding": "identity", "if-none-match": etag } });
    expect(again.status()).toBe(304);
  }
  const favicon = await request.get("/favicon.ico");
  expect(favicon.status()).toBe(200);
  expect(favicon.headers()["content-type"]).toBe("image/x-icon");
  expect(favicon.headers()["cache-control"]).toBe("no-cache");
  // An old bundle name is not served (nor anything that is not in the binary).
  expect((await request.get("/pkg/hookrelay.js")).status()).toBe(404);
  expect((await request.get("/pkg/hookrelay.0000000000000000.wasm")).status()).toBe(404);
});

// Issue 16's figure, printed for docs/BENCHMARKS.md (speed is measured,
// not asserted): a cold browser context loads /login until the WASM has
// hydrated it, five times.
test("first load, SSR to hydrated, in a cold browser (measured)", async ({ browser }) => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const started = Date.now();
    await page.goto("/login");
    await hydrated(page);
    times.push(Date.now() - started);
    await context.close();
  }
  times.sort((a, b) => a - b);
  console.log(`first dashboard load (SSR + hydrate), cold cache: ${times.join(", ")} ms; median ${times[2]} ms`);
});
