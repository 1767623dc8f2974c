import { expect, test } from "@playwright/test";

// The thin slice that proves the whole chain: SSR, hydration, client state, a server
// function and a live WebSocket.

test("the home page is rendered on the server", async ({ request }) => {
  const resp = await request.get("/");
  expect(resp.status()).toBe(200);
  const html = await resp.text();
  expect(html).toContain("<title>Confab</title>");
  expect(html).toContain('data-testid="landing"');
  expect(html).toContain("Team chat that keeps up.");
  // Controls that need JavaScript are disabled in the server's HTML.
  const login = await (await request.get("/login")).text();
  expect(login).toMatch(/<button[^>]*data-testid="show-password"[^>]*disabled/);
});

test("the page hydrates and client-side state works in the browser", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto("/login");
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  // "Show password" only works once hydrated: it lives in the browser's state.
  const toggle = page.getByTestId("show-password");
  const password = page.getByTestId("password");
  await expect(toggle).toBeEnabled();
  await password.fill("secret words");
  await expect(password).toHaveAttribute("type", "password");
  await toggle.click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(toggle).toHaveText("Hide password");
  await toggle.click();
  await expect(password).toHaveAttribute("type", "password");
  await expect(password).toHaveValue("secret words");
  expect(errors).toEqual([]);
});

test("a server function answers", async ({ request }) => {
  const resp = await request.post("/api/status", { form: {} });
  expect(resp.status()).toBe(200);
  const body = await resp.json();
  expect(body.server).toMatch(/^confab\/\d+\.\d+\.\d+$/);
  expect(typeof body.uptime_secs).toBe("number");
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
