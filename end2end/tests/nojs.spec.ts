import { expect, test } from "@playwright/test";
import { PASSWORD, createRoom, person, send, uniqueHandle } from "./support/chat";

// Without JavaScript: the landing page and reading a room work; anything that needs the
// live connection says so plainly, and typed text is never thrown away by a form that
// submits nowhere.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("without JavaScript the chat reads, and says what needs JavaScript", async ({ browser }) => {
  const ana = await person(browser, BASE, "njs", "Ana NoScript");
  const context = await browser.newContext({ baseURL: BASE, javaScriptEnabled: false });
  try {
    const room = await createRoom(ana.page, uniqueHandle("nojs"));
    await send(ana.page, "readable without scripts");
    await expect(ana.page.getByTestId("messages").getByText("readable without scripts")).toBeVisible();

    const page = await context.newPage();
    // The landing page is complete without scripts.
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "Team chat that keeps up." })).toBeVisible();
    await expect(page.getByRole("img", { name: /The Confab chat/ })).toBeVisible();

    // Log in with the plain form post.
    await page.goto("/login");
    await page.getByLabel("Handle").fill(ana.handle);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/$/);

    // The rooms list: dialogs need JavaScript, and it says so.
    await expect(page.getByRole("button", { name: "Browse rooms" }).first()).toBeDisabled();
    await expect(page.getByRole("button", { name: "Create a room" }).first()).toBeDisabled();
    // (Playwright's text locators and text assertions skip <noscript>, so these are
    // found by test id and read with textContent.)
    await expect(page.getByTestId("rooms-nojs")).toBeVisible();
    expect(await page.getByTestId("rooms-nojs").textContent()).toBe(
      "Creating and browsing rooms and starting direct messages need JavaScript.",
    );
    await expect(page.getByTestId("empty-nojs")).toBeVisible();

    await page.goto(room);
    await expect(page.getByTestId("messages").getByText("readable without scripts")).toBeVisible();
    // No badge saying "Connecting…" forever: a line says live updates need JavaScript.
    await expect(page.getByTestId("connection")).toBeHidden();
    await expect(page.getByTestId("nojs")).toBeVisible();
    expect(await page.getByTestId("nojs").textContent()).toBe("Live updates and sending need JavaScript.");

    // Sending: Send is disabled and says why; Enter does not submit the form anywhere, so
    // the text stays where it was typed.
    const box = page.getByLabel("Message", { exact: true });
    await box.fill("please do not lose me");
    await expect(page.getByRole("button", { name: "Send" })).toBeDisabled();
    await expect(page.getByTestId("composer-nojs")).toBeVisible();
    expect(await page.getByTestId("composer-nojs").textContent()).toContain("Sending messages needs JavaScript");
    await box.press("Enter");
    await page.waitForTimeout(500);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(room);
    await expect(box).toHaveValue(/please do not lose me/);
  } finally {
    await context.close();
    await ana.context.close();
  }
});
