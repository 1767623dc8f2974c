import { expect, test } from "@playwright/test";

// The browser bundle of a release build: named by content hash, cached for a year, sent
// compressed; a visitor's first page does not download the chat's part of it, a
// signed-in page does; and what a first visit downloads (reported, not asserted: size
// targets live in docs/benchmarks.md, not in tests).

const HASHED = /^\/pkg\/(confab|__wasm_split|split_[a-z0-9_]+)\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$/;
const CHAT_PART = /^\/pkg\/split_chat_screen_[0-9]+\.[A-Za-z0-9_-]{16,}\.wasm$/;

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
  // The main module and its script, the split loader's script, the stylesheet: no chat.
  expect(paths.map((p) => p.split(".").pop()).sort()).toEqual(["css", "js", "js", "wasm"]);
  expect(paths.filter((p) => CHAT_PART.test(p))).toEqual([]);
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

  // Signed in, the same page is the chat: its part of the bundle comes too, hashed and
  // immutable like the rest.
  const handle = `bundle${Date.now().toString(36)}`;
  const r = await page.request.post("/api/auth/signup", {
    form: { handle, display_name: "Bundle", password: "correct horse battery" },
    maxRedirects: 0,
  });
  expect(r.status()).toBeLessThan(400);
  await page.goto("/");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "connected");
  const chat = [...bundle.keys()].filter((p) => CHAT_PART.test(p));
  expect(chat).toHaveLength(1);
  const part = await request.get(chat[0], { headers: { "accept-encoding": "gzip" } });
  expect(part.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  console.log(`the chat adds ${bundle.get(chat[0])} B on the wire`);
});
