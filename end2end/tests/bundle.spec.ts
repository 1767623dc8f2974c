import { expect, test } from "@playwright/test";

// The browser bundle of a release build: named by content hash, cached for a year, sent
// compressed, and what a first visit downloads (reported, not asserted: size targets
// live in docs/benchmarks.md, not in tests).

const HASHED = /^\/pkg\/confab\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$/;

test("the bundle has hashed names, is immutable and is sent compressed", async ({ page, request }) => {
  const bundle = new Map<string, number>();
  page.on("response", async (resp) => {
    const path = new URL(resp.url()).pathname;
    if (path.startsWith("/pkg/")) {
      const sizes = await resp.request().sizes();
      bundle.set(path, sizes.responseBodySize);
    }
  });
  await page.goto("/");
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");

  const paths = [...bundle.keys()].sort();
  expect(paths.map((p) => p.split(".").pop()).sort()).toEqual(["css", "js", "wasm"]);
  for (const path of paths) {
    expect(path).toMatch(HASHED);
    const resp = await request.get(path, { headers: { "accept-encoding": "gzip" } });
    expect(resp.status()).toBe(200);
    expect(resp.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(resp.headers()["content-encoding"]).toBe("gzip");
  }

  // The page that names the bundle is revalidated, so a new build reaches the next load.
  const home = await request.get("/");
  expect(home.headers()["cache-control"]).toBe("private, no-cache");

  // An unhashed name is not served as the bundle.
  expect((await request.get("/pkg/confab.wasm")).status()).toBe(404);

  const report = paths.map((p) => `${p.split(".").pop()}: ${bundle.get(p)} B on the wire`).join(", ");
  test.info().annotations.push({ type: "bundle", description: report });
  console.log(`first visit downloads ${report}`);
});
