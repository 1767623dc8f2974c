import { expect, test } from "@playwright/test";
import { expectAccessible } from "./support/a11y";
import { createRoom, person, send, uniqueHandle } from "./support/chat";

// An automated accessibility check (axe-core) of every page, in the light and the dark
// colour scheme: no serious or critical violation of WCAG 2.1 A/AA rules.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`in the ${colorScheme} scheme`, () => {
    test.use({ colorScheme });

    test("the pages for visitors are accessible", async ({ page }) => {
      for (const path of ["/", "/login", "/signup", "/nowhere"]) {
        await page.goto(path);
        await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
        await expectAccessible(page, path);
      }
    });

    test("the chat, a room, its dialogs and the delete question are accessible", async ({ browser }) => {
      const ana = await person(browser, BASE, "axe", "Ana Axe", { colorScheme });
      const page = ana.page;
      try {
        await expectAccessible(page, "the chat with no room open");
        await createRoom(page, uniqueHandle("axe"));
        await send(page, "checking contrast and names");
        await expect(page.getByTestId("messages").getByText("checking contrast and names")).toBeVisible();
        await expectAccessible(page, "a room");
        await page.getByTestId("open-status").click();
        await expect(page.getByRole("dialog", { name: "Set your status" })).toBeVisible();
        await expectAccessible(page, "the status dialog");
        await page.keyboard.press("Escape");
        await page.getByRole("button", { name: "Create a room" }).first().click();
        await expect(page.getByRole("dialog", { name: "Create a room" })).toBeVisible();
        await expectAccessible(page, "the new room dialog");
        await page.keyboard.press("Escape");
        const line = page.getByTestId("messages").getByTestId("message").last();
        await line.hover();
        await line.getByRole("button", { name: "Delete message" }).click();
        await expect(page.getByRole("alertdialog")).toBeVisible();
        await expectAccessible(page, "the delete question");
        await page.keyboard.press("Escape");
      } finally {
        await ana.context.close();
      }
    });
  });
}
