import { expect, test } from "@playwright/test";

import { createRoom, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";
import { SIZES, expectAllOnScreen } from "./support/viewport";

// Reading and writing comfort in the real UI: a draft kept per room across room switches
// and a reload, and gone once sent; the day separator above today's messages, a
// timestamp's full date on hover, a message's "Copy link", the composer's emoji picker,
// the "New messages" divider and a message's edit history. At phone and desktop widths.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

for (const size of ["phone", "desktop"] as const) {
  test(`a draft survives a room switch and a reload, and goes when sent (${size})`, async ({ browser }) => {
    const ana = await person(browser, BASE, "ana", "Ana", { viewport: SIZES[size] });
    try {
      const first = await createRoom(ana.page, uniqueHandle("drafts"));
      // On a phone the room list (with its Create button) shows when no room is open.
      await ana.page.goto("/");
      await ready(ana.page);
      const second = await createRoom(ana.page, uniqueHandle("other"));
      const box = ana.page.getByLabel("Message", { exact: true });

      await openRoom(ana.page, first);
      await box.fill("half a thought,\nstill going");
      await openRoom(ana.page, second);
      await expect(box).toHaveValue("");
      await box.fill("something else");

      // Back in the first room, then after a reload: each room has its own draft.
      await openRoom(ana.page, first);
      await expect(box).toHaveValue("half a thought,\nstill going");
      await ana.page.reload();
      await ready(ana.page);
      await expect(box).toHaveValue("half a thought,\nstill going");

      // An edit does not touch the draft: when it ends, the draft is back.
      await box.fill("");
      await send(ana.page, "sent earlier");
      await expect(row(ana.page, "sent earlier")).toHaveAttribute("data-state", "sent");
      await box.fill("the draft again");
      await row(ana.page, "sent earlier").hover();
      await row(ana.page, "sent earlier").getByRole("button", { name: "Edit message" }).click();
      await expect(box).toHaveValue("sent earlier");
      await box.press("Escape");
      await expect(box).toHaveValue("the draft again");

      // Sent, the draft is gone, after a reload too; the other room's stays.
      await box.press("Enter");
      await expect(row(ana.page, "the draft again")).toHaveAttribute("data-state", "sent");
      await expect(box).toHaveValue("");
      await ana.page.reload();
      await ready(ana.page);
      await expect(box).toHaveValue("");
      await openRoom(ana.page, second);
      await expect(box).toHaveValue("something else");
      expect(ana.problems).toEqual([]);
    } finally {
      await ana.context.close();
    }
  });

  test(`today's messages sit under a "Today" separator, and a time's hover gives the full date (${size})`, async ({ browser }) => {
    const ana = await person(browser, BASE, "ana", "Ana", { viewport: SIZES[size] });
    try {
      await createRoom(ana.page, uniqueHandle("days"));
      await send(ana.page, "first of the day");
      await send(ana.page, "second of the day");
      await expect(row(ana.page, "second of the day")).toHaveAttribute("data-state", "sent");
      const separators = ana.page.getByTestId("messages").getByTestId("day-separator");
      await expect(separators).toHaveCount(1);
      await expect(separators).toHaveText("Today");
      const time = row(ana.page, "first of the day").locator("time");
      await expect(time).toHaveAttribute("title", /^(Sun|Mon|Tues|Wednes|Thurs|Fri|Satur)day \d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}$/);
      // The clock shown is the hover's clock.
      const clock = (await time.textContent())?.trim() ?? "";
      expect(await time.getAttribute("title")).toContain(`, ${clock}`);

      // "Copy link" puts the message's address on the clipboard; opened, it marks the message.
      await ana.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
      const first = row(ana.page, "first of the day");
      await first.hover();
      await first.getByRole("button", { name: "Copy link to message" }).click();
      await expect(ana.page.getByText("Link to the message copied.")).toBeVisible();
      const seq = await first.getAttribute("data-seq");
      const copied = await ana.page.evaluate(() => navigator.clipboard.readText());
      expect(copied).toMatch(new RegExp(`/r/[0-9a-f-]{36}\\?at=${seq}$`));
      await ana.page.goto(copied);
      await ready(ana.page);
      await expect(row(ana.page, "first of the day")).toHaveClass(/message--target/);

      // The composer's emoji picker: filtered by name, the pick goes at the caret.
      const box = ana.page.getByLabel("Message", { exact: true });
      await box.fill("we shipped !");
      await box.press("ArrowLeft");
      await ana.page.getByRole("button", { name: "Insert emoji" }).click();
      const picker = ana.page.getByRole("menu", { name: "Emoji" });
      await expect(picker.getByLabel("Find an emoji")).toBeFocused();
      await expectAllOnScreen(ana.page, `the emoji picker (${size})`);
      await picker.getByLabel("Find an emoji").fill("par");
      await expect(picker.getByTestId("emoji-option")).toHaveCount(1);
      await picker.getByRole("menuitem", { name: "party" }).click();
      await expect(picker).toHaveCount(0);
      await expect(box).toBeFocused();
      await expect(box).toHaveValue("we shipped 🎉!");
      await box.press("Enter");
      await expect(row(ana.page, "we shipped 🎉!")).toBeVisible();
      expect(ana.problems).toEqual([]);
    } finally {
      await ana.context.close();
    }
  });

  test(`a "New messages" divider marks where the reader left off; an edited message shows its history (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    try {
      const path = await createRoom(ana.page, uniqueHandle("unread"));
      await openRoom(bo.page, path);
      await send(ana.page, "read already");
      await expect(row(bo.page, "read already")).toBeVisible();
      // Bo goes elsewhere; Ana writes on, enough to fill more than a screen.
      await bo.page.goto("/");
      await ready(bo.page);
      for (let i = 1; i <= 30; i++) await send(ana.page, `news ${i}`);
      await expect(row(ana.page, "news 30")).toHaveAttribute("data-state", "sent");

      await openRoom(bo.page, path);
      const divider = bo.page.getByTestId("unread-divider");
      await expect(divider).toHaveCount(1);
      // It sits right before the first message Bo had not read.
      const next = bo.page.locator('[data-testid="unread-divider"] + [data-testid="message"]');
      await expect(next.getByTestId("body")).toHaveText("news 1");
      // The list opens at the bottom: the divider is above, and the jump takes Bo there.
      await expect(row(bo.page, "news 30")).toBeInViewport();
      await bo.page.getByTestId("jump-unread").click();
      await expect(divider).toBeInViewport();
      await expect(bo.page.getByTestId("jump-unread")).toHaveCount(0);
      // Read now: opened again, there is no divider.
      await openRoom(bo.page, path);
      await expect(row(bo.page, "news 30")).toBeVisible();
      await expect(bo.page.getByTestId("unread-divider")).toHaveCount(0);

      // Ana edits a message twice; Bo opens its history from "(edited)": newest first.
      const box = ana.page.getByLabel("Message", { exact: true });
      for (const body of ["news 30, corrected", "news 30, corrected again"]) {
        await box.press("ArrowUp");
        await expect(ana.page.getByTestId("editing")).toBeVisible();
        await box.fill(body);
        await box.press("Enter");
        await expect(row(bo.page, body)).toBeVisible();
      }
      const edited = row(bo.page, "news 30, corrected again");
      await edited.getByTestId("edited").click();
      const history = bo.page.getByRole("dialog", { name: "Edit history" });
      await expect(history.getByTestId("version")).toHaveCount(3);
      await expect(history.getByTestId("version").nth(0)).toContainText("Now");
      await expect(history.getByTestId("version").nth(0)).toContainText("news 30, corrected again");
      await expect(history.getByTestId("version").nth(1)).toContainText("Edited");
      await expect(history.getByTestId("version").nth(1)).toContainText("news 30, corrected");
      await expect(history.getByTestId("version").nth(2)).toContainText("Original");
      await expect(history.getByTestId("version").nth(2)).toContainText("news 30");
      await expectAllOnScreen(bo.page, `the edit history (${size})`);
      await history.getByRole("button", { name: "Close" }).click();
      await expect(history).toHaveCount(0);
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
    } finally {
      await ana.context.close();
      await bo.context.close();
    }
  });
}
