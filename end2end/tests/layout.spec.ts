import { expect, test } from "@playwright/test";
import { createRoom, member, openRoom, person, row, send, uniqueHandle } from "./support/chat";
import { SIZES, expectAllOnScreen, screenshot, type SizeName } from "./support/viewport";

// The layout at a phone (390×844), a tablet (768×1024) and a desktop (1280×800): on every
// page no control lies outside the viewport and nothing scrolls sideways; on a phone the
// room list and the room take turns and the members are a drawer. With
// CONFAB_SCREENSHOTS_DIR set it also saves the pictures in docs/screenshots/.

for (const size of Object.keys(SIZES) as SizeName[]) {
  const viewport = SIZES[size];
  const narrow = size !== "desktop";

  test.describe(`at ${size} size (${viewport.width}×${viewport.height})`, () => {
    test.use({ viewport });

    test("the landing page, log-in and sign-up fit", async ({ page }) => {
      await page.goto("/");
      await expect(page.getByTestId("landing")).toBeVisible();
      await expect(page.getByRole("link", { name: "Create an account" })).toBeInViewport();
      await expectAllOnScreen(page, "the landing page");
      await screenshot(page, `landing-${size}`);
      await page.goto("/login");
      await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
      await expectAllOnScreen(page, "log-in");
      await page.goto("/signup");
      await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
      await expectAllOnScreen(page, "sign-up");
    });

    test("the chat fits, with a room open, its members and its dialogs", async ({ browser, baseURL }) => {
      const ana = await person(browser, baseURL!, "lay", "Ana Layout", { viewport });
      const bo = await person(browser, baseURL!, "lay", "Bo Layout", { viewport });
      const page = ana.page;
      try {
        await expectAllOnScreen(page, "the chat with no room open");
        // What a newcomer needs first is there.
        for (const name of ["Create a room", "New direct message", "Log out"]) {
          await expect(page.getByRole("button", { name }).first()).toBeInViewport();
        }

        const path = await createRoom(page, uniqueHandle("design-review-"));
        await openRoom(bo.page, path);
        await send(page, "Hello from a small screen — does everything fit?");
        await send(bo.page, "It does, and Send is right there.");
        await expect(row(page, "It does, and Send is right there.")).toBeVisible();

        // The room: its actions and the composer with Send in view.
        for (const name of ["Invite", "Leave", "Send"]) {
          await expect(page.getByRole("button", { name, exact: true })).toBeInViewport();
        }
        await expect(page.getByLabel("Message", { exact: true })).toBeInViewport();
        await expectAllOnScreen(page, "the chat with a room open");

        if (size === "phone") {
          // The room list and the room take turns: the list is hidden, a back link leads to it.
          await expect(page.getByRole("navigation", { name: "Rooms" })).toBeHidden();
          await page.getByRole("link", { name: "All rooms" }).click();
          await expect(page.getByRole("navigation", { name: "Rooms" })).toBeVisible();
          await expect(page.getByTestId("room")).toHaveCount(0);
          await expect(page.getByRole("button", { name: "Create a room" }).first()).toBeInViewport();
          await expectAllOnScreen(page, "the room list on a phone");
          await page.getByTestId("room-link").first().click();
          await expect(page.getByTestId("room")).toBeVisible();
        }

        // Members: beside the room on a desktop; a drawer elsewhere, focus moved into it and
        // given back to its toggle when it closes.
        const members = page.getByTestId("members");
        const toggle = page.getByTestId("members-toggle");
        if (narrow) {
          await expect(members).toBeHidden();
          await toggle.click();
          await expect(members).toBeVisible();
          await expect(page.getByTestId("members-close")).toBeFocused();
          await expect(member(page, bo.handle)).toBeInViewport();
          await expectAllOnScreen(page, "the members drawer");
          await screenshot(page, `members-${size}`);
          await page.keyboard.press("Escape");
          await expect(members).toBeHidden();
          await expect(toggle).toBeFocused();
          await toggle.click();
          await page.getByTestId("members-close").click();
          await expect(members).toBeHidden();
        } else {
          await expect(toggle).toBeHidden();
          await expect(member(page, bo.handle)).toBeVisible();
        }
        await screenshot(page, `chat-${size}`);

        // The connection badge keeps its width whatever it says, so nothing beside it moves.
        const search = page.getByTestId("open-search");
        const before = await search.boundingBox();
        await page.getByTestId("connection").evaluate((el) => (el.textContent = "Reconnecting in 25 s"));
        expect(await search.boundingBox()).toEqual(before);
        await page.getByTestId("connection").evaluate((el) => (el.textContent = "Connected"));

        // Dialogs fit.
        await page.getByRole("button", { name: "Invite", exact: true }).click();
        await expect(page.getByRole("dialog", { name: "Invite someone" })).toBeVisible();
        await expectAllOnScreen(page, "the invite dialog");
        await page.keyboard.press("Escape");
        await page.getByTestId("open-status").click();
        await expect(page.getByRole("dialog", { name: "Set your status" })).toBeVisible();
        await expectAllOnScreen(page, "the status dialog");
        await page.keyboard.press("Escape");
        await page.getByTestId("open-search").click();
        await expect(page.getByRole("dialog", { name: "Search messages" })).toBeVisible();
        await expectAllOnScreen(page, "the search dialog");
        await page.keyboard.press("Escape");
        await expect(page.getByRole("dialog")).toHaveCount(0);
        expect(ana.problems).toEqual([]);
      } finally {
        await ana.context.close();
        await bo.context.close();
      }
    });
  });
}

