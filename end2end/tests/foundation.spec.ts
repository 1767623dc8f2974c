import { expect, test } from "@playwright/test";

// The thin slice that proves the whole chain: SSR, hydration, client state, a server
// function and a live WebSocket.

test("the home page is rendered on the server", async ({ request }) => {
  const resp = await request.get("/");
  expect(resp.status()).toBe(200);
  const html = await resp.text();
  expect(html).toContain("<title>Confab</title>");
  expect(html).toContain('data-testid="counter"');
});

test("the page hydrates and the counter works in the browser", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto("/");
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  const counter = page.getByTestId("counter");
  await expect(counter).toHaveText("Clicked 0 times");
  await counter.click();
  await counter.click();
  await expect(counter).toHaveText("Clicked 2 times");
  expect(errors).toEqual([]);
});

test("a server function answers", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("server-answer")).toHaveText("Not asked yet.");
  await page.getByRole("button", { name: "Ask the server" }).click();
  await expect(page.getByTestId("server-answer")).toHaveText(/^confab\/\d+\.\d+\.\d+ answered; up for \d+ s\.$/);
});

test("a signed-in page opens a WebSocket and shows that it is connected", async ({ page }) => {
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.goto("/signup");
  await page.getByLabel("Handle").fill(`ws${Date.now().toString(36)}`);
  await page.getByLabel("Display name").fill("Socket Tester");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/$/);
  const badge = page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "connected");
  await expect(badge).toHaveText("Connected");
  expect(sockets.some((u) => u.endsWith("/ws"))).toBe(true);
});

test("unknown addresses show a not-found page", async ({ page }) => {
  const resp = await page.goto("/nowhere");
  expect(resp?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
});
