import { expect, test, type Locator, type Page } from "@playwright/test";

import { PASSWORD, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";

// A whole conversation without a mouse: Ana logs in, creates a room, writes, reacts,
// replies in a thread, edits and deletes (confirming in the dialog), and logs out, with
// Tab, Shift+Tab, Enter, Space, the arrow keys and Escape only. Every control she needs
// must be reachable in the page's tab order, both ways; `tabTo` fails if one is not. Bo, with the
// usual helpers, checks that each step reached the other side.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

/** Presses Tab (or Shift+Tab) until `target` has focus; fails after `max` presses. */
async function tabTo(page: Page, target: Locator, opts: { back?: boolean; max?: number } = {}) {
  const max = opts.max ?? 60;
  const el = await target.elementHandle({ timeout: 10_000 });
  if (!el) throw new Error(`${target} is not on the page`);
  for (let i = 0; i <= max; i++) {
    if (await el.evaluate((e) => e === document.activeElement)) return;
    await page.keyboard.press(opts.back ? "Shift+Tab" : "Tab");
  }
  const now = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120) ?? "nothing");
  throw new Error(`${target} not reached in ${max} presses of ${opts.back ? "Shift+Tab" : "Tab"}; focus is on ${now}`);
}

test("a whole conversation by keyboard alone", async ({ browser }) => {
  test.setTimeout(180_000);
  const bo = await person(browser, BASE, "kbo", "Bo");
  const context = await browser.newContext({ baseURL: BASE });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  try {
    const handle = uniqueHandle("kana");
    const r = await page.request.post("/api/auth/signup", {
      form: { handle, display_name: "Ana", password: PASSWORD },
      maxRedirects: 0,
    });
    expect(r.status()).toBeLessThan(400);
    await context.clearCookies();

    // Log in: the form's fields and button in tab order.
    await page.goto("/login");
    await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
    await tabTo(page, page.getByLabel("Handle"));
    await page.keyboard.type(handle);
    await page.keyboard.press("Tab");
    await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await ready(page);

    // Create a room from the top bar's button; the dialog takes focus, Enter submits.
    await tabTo(page, page.getByRole("button", { name: "Create a room" }).first());
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Create a room" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Name")).toBeFocused();
    const name = uniqueHandle("keys");
    await page.keyboard.type(name);
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/r\/[0-9a-f-]{36}$/);
    const room = new URL(page.url()).pathname;
    await openRoom(bo.page, room);

    // Write two messages from the composer.
    const composer = page.getByLabel("Message", { exact: true });
    await tabTo(page, composer);
    await page.keyboard.type("typed without a mouse");
    await page.keyboard.press("Enter");
    await page.keyboard.type("this one will go");
    await page.keyboard.press("Enter");
    await expect(row(bo.page, "this one will go")).toBeVisible();
    await send(bo.page, "nice, Ana");
    await expect(row(page, "nice, Ana")).toBeVisible();
    // The screen reader's status line said Bo's message.
    await expect(page.getByTestId("announcer")).toHaveText("Bo: nice, Ana");

    // React to Bo's message: back from the composer to its "Add reaction" button, open
    // the menu (focus moves in), the arrow key to the second emoji, Enter.
    const bos = row(page, "nice, Ana");
    await tabTo(page, bos.getByRole("button", { name: "Add reaction" }), { back: true });
    await page.keyboard.press("Enter");
    await expect(bos.getByRole("menuitem", { name: "React with 👍" })).toBeFocused();
    await page.keyboard.press("ArrowRight");
    await expect(bos.getByRole("menuitem", { name: "React with ❤️" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(row(bo.page, "nice, Ana").locator('[data-testid="reaction"][data-emoji="❤️"]')).toBeVisible();

    // Escape closes the menu and gives focus back to its button.
    await tabTo(page, composer);
    await tabTo(page, row(page, "nice, Ana").getByRole("button", { name: "Add reaction" }), { back: true });
    await page.keyboard.press("Space");
    await expect(row(page, "nice, Ana").getByRole("menu")).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(row(page, "nice, Ana").getByRole("menu")).toHaveCount(0);
    await expect(row(page, "nice, Ana").getByRole("button", { name: "Add reaction" })).toBeFocused();

    // Reply in a thread: the message's Reply button, then the thread's composer.
    await page.keyboard.press("Tab");
    await tabTo(page, row(page, "nice, Ana").getByRole("button", { name: "Reply in thread" }));
    await page.keyboard.press("Enter");
    const thread = page.getByTestId("thread");
    await expect(thread).toBeVisible();
    await tabTo(page, thread.getByRole("textbox"));
    await page.keyboard.type("a reply by keyboard");
    await page.keyboard.press("Enter");
    await expect(row(bo.page, "nice, Ana").getByTestId("thread-link")).toContainText("1 reply");
    await tabTo(page, thread.getByRole("button", { name: "Close thread" }), { back: true });
    await page.keyboard.press("Enter");
    await expect(thread).toHaveCount(0);

    // Edit her first message: its Edit button fills the composer; Enter saves.
    await tabTo(page, composer);
    await tabTo(page, row(page, "typed without a mouse").getByRole("button", { name: "Edit message" }), {
      back: true,
    });
    await page.keyboard.press("Enter");
    await expect(composer).toBeFocused();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("edited without a mouse");
    await page.keyboard.press("Enter");
    await expect(row(bo.page, "edited without a mouse").getByTestId("edited")).toBeVisible();

    // Delete the second: its Delete button, then the dialog's Delete (Cancel has focus).
    await tabTo(page, composer);
    await tabTo(page, row(page, "this one will go").getByRole("button", { name: "Delete message" }), {
      back: true,
    });
    await page.keyboard.press("Enter");
    const confirm = page.getByRole("alertdialog", { name: "Delete this message?" });
    await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(confirm.getByRole("button", { name: "Delete" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(bo.page.getByText("This message was deleted.")).toBeVisible();
    await expect(bo.page.getByTestId("messages").getByText("this one will go")).toHaveCount(0);

    // Log out.
    await tabTo(page, page.getByRole("button", { name: "Log out" }), { max: 120 });
    await page.keyboard.press("Enter");
    await expect(page.getByRole("link", { name: "Log in" }).first()).toBeVisible();
    expect(problems.concat(bo.problems)).toEqual([]);
  } finally {
    await context.close();
    await bo.context.close();
  }
});
