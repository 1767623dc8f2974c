// Helpers for the chat suites: people with their own browser context, and the few
// gestures every test repeats (open a room, send, read the list).

import { expect, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery";

export function uniqueHandle(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

export interface Person {
  context: BrowserContext;
  page: Page;
  handle: string;
  name: string;
  /** Uncaught page errors, CSP violations and dialogs (alert, confirm) seen so far. */
  problems: string[];
}

/** Signs a new person up in a context of their own (with `options`, e.g. a viewport) and
 * opens the chat. */
export async function person(
  browser: Browser,
  baseURL: string,
  prefix: string,
  name: string,
  options: BrowserContextOptions = {},
): Promise<Person> {
  const context = await browser.newContext({ ...options, baseURL });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // The page's Content-Security-Policy must never have to block anything of ours.
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  const handle = uniqueHandle(prefix);
  const r = await page.request.post("/api/auth/signup", {
    form: { handle, display_name: name, password: PASSWORD },
    maxRedirects: 0,
  });
  expect(r.status(), await r.text()).toBeLessThan(400);
  await page.goto("/");
  await ready(page);
  return { context, page, handle, name, problems };
}

/** Waits for hydration and a live connection. */
export async function ready(page: Page) {
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "connected");
}

/** Creates a room through the dialog and returns its address. */
export async function createRoom(
  page: Page,
  name: string,
  opts: { private?: boolean; topic?: string } = {},
): Promise<string> {
  await page.getByRole("button", { name: "Create a room" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Create a room" });
  await dialog.getByLabel("Name").fill(name);
  if (opts.topic) await dialog.getByLabel("Topic (optional)").fill(opts.topic);
  if (opts.private) await dialog.getByRole("checkbox").check();
  await dialog.getByRole("button", { name: "Create room" }).click();
  await expect(page).toHaveURL(/\/r\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("room-title")).toContainText(name.toLowerCase());
  return new URL(page.url()).pathname;
}

/** Opens a room by address and waits until it is live. */
export async function openRoom(page: Page, path: string) {
  await page.goto(path);
  await ready(page);
  await expect(page.getByTestId("room")).toBeVisible();
}

export async function send(page: Page, text: string) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
}

/** The bodies of the messages shown, in order. */
export async function bodies(page: Page): Promise<string[]> {
  return page.getByTestId("messages").getByTestId("body").allTextContents();
}

/** The row of the message whose body is exactly `text`. */
export function row(page: Page, text: string) {
  return page
    .getByTestId("messages")
    .getByTestId("message")
    .filter({ has: page.getByTestId("body").getByText(text, { exact: true }) });
}

/** The member list entry of `handle`. */
export function member(page: Page, handle: string) {
  return page.locator(`[data-testid="member"][data-handle="${handle}"]`);
}

/** Opens the member list (a drawer below desktop widths) and returns `handle`'s row. */
export async function memberRow(page: Page, handle: string) {
  const toggle = page.getByTestId("members-toggle");
  if (await toggle.isVisible()) {
    if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  }
  const entry = member(page, handle);
  await expect(entry).toBeVisible();
  return entry;
}
