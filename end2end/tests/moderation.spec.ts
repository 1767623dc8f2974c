import { expect, test } from "@playwright/test";

import { createRoom, member, memberRow, openRoom, person, row, send, uniqueHandle } from "./support/chat";
import { SIZES, expectAllOnScreen } from "./support/viewport";

// Room administration as a person does it, in the real UI on the real server: the owner
// pins and unpins a message and a member sees the pinned list follow; the owner renames
// the room, sets its topic and description and archives it while a member watches; the
// owner makes a member an admin (who gets an admin's tools at once), then removes another
// member who is watching the room and who is taken out of it at once, then bans the admin
// and lets them back. At phone and desktop widths.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

for (const size of ["phone", "desktop"] as const) {
  test(`the owner pins and unpins a message; a member sees the list follow (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    try {
      const path = await createRoom(ana.page, uniqueHandle("pins"));
      await openRoom(bo.page, path);
      await send(ana.page, "the release checklist");
      const line = row(ana.page, "the release checklist");
      await expect(line).toHaveAttribute("data-state", "sent");
      await expect(row(bo.page, "the release checklist")).toBeVisible();

      // A member has no pin tool; the owner has.
      await row(bo.page, "the release checklist").hover();
      await expect(row(bo.page, "the release checklist").getByTestId("pin-tool")).toHaveCount(0);
      await expect(bo.page.getByTestId("pins-toggle")).toHaveText("📌 0");

      await line.hover();
      await line.getByRole("button", { name: "Pin message" }).click();
      await expect(row(bo.page, "the release checklist").getByTestId("pinned")).toBeVisible();
      await expect(bo.page.getByTestId("pins-toggle")).toHaveText("📌 1");
      await expect(ana.page.getByTestId("pins-toggle")).toHaveText("📌 1");

      // The member opens the list: the message, and no Unpin for them.
      await bo.page.getByTestId("pins-toggle").click();
      const list = bo.page.getByRole("dialog", { name: "Pinned messages" });
      await expect(list.getByTestId("pin")).toHaveCount(1);
      await expect(list.getByTestId("pin")).toContainText("the release checklist");
      await expect(list.getByTestId("unpin")).toHaveCount(0);
      await expectAllOnScreen(bo.page, `the pinned list (${size})`);

      // The owner unpins from the list; the member's open list empties by itself.
      await ana.page.getByTestId("pins-toggle").click();
      const mine = ana.page.getByRole("dialog", { name: "Pinned messages" });
      await mine.getByTestId("unpin").click();
      await expect(mine.getByTestId("pins-empty")).toBeVisible();
      await expect(list.getByTestId("pins-empty")).toBeVisible();
      await list.getByRole("button", { name: "Close" }).click();
      await expect(bo.page.getByTestId("pins-toggle")).toHaveText("📌 0");
      await expect(row(bo.page, "the release checklist").getByTestId("pinned")).toHaveCount(0);

      // Pinned again, it is still pinned after a reload (read with the room's page).
      await mine.getByRole("button", { name: "Close" }).click();
      await line.hover();
      await line.getByRole("button", { name: "Pin message" }).click();
      await expect(bo.page.getByTestId("pins-toggle")).toHaveText("📌 1");
      await openRoom(bo.page, path);
      await expect(bo.page.getByTestId("pins-toggle")).toHaveText("📌 1");
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
    } finally {
      await ana.context.close();
      await bo.context.close();
    }
  });

  test(`the owner changes the room's settings and archives it while a member watches (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    try {
      const path = await createRoom(ana.page, uniqueHandle("settings"));
      await openRoom(bo.page, path);
      await expect(bo.page.getByTestId("room-about-open")).toHaveText("About");

      const renamed = uniqueHandle("design");
      await ana.page.getByTestId("room-about-open").click();
      const form = ana.page.getByRole("dialog", { name: "About this room" });
      await form.getByTestId("room-settings-name").fill(renamed);
      await form.getByTestId("room-settings-topic").fill("pixels and type");
      await form.getByTestId("room-settings-description").fill("Where we argue about fonts.\nAsk Ana.");
      await expectAllOnScreen(ana.page, `the room settings (${size})`);
      await form.getByTestId("room-settings-save").click();
      await expect(form).toHaveCount(0);

      // The member's header follows without a reload, and the notice says what changed.
      await expect(bo.page.getByTestId("room-title")).toContainText(renamed);
      await expect(bo.page.getByTestId("room-topic")).toHaveText("pixels and type");
      await expect(bo.page.getByTestId("notice").last()).toContainText(`Ana renamed the room to #${renamed}`);
      await bo.page.getByTestId("room-about-open").click();
      const about = bo.page.getByRole("dialog", { name: "About this room" });
      await expect(about.getByTestId("room-description")).toHaveText("Where we argue about fonts.\nAsk Ana.");
      await about.getByRole("button", { name: "Close" }).click();

      // Archived: nobody can write, the history stays; reopened, the composer is back.
      await ana.page.getByTestId("room-about-open").click();
      await ana.page.getByTestId("room-archive").click();
      await expect(bo.page.getByTestId("room-archived")).toBeVisible();
      await expect(bo.page.getByLabel("Message", { exact: true })).toHaveCount(0);
      await expect(ana.page.getByTestId("room-archived")).toBeVisible();
      await ana.page.getByTestId("room-about-open").click();
      await expect(ana.page.getByTestId("room-archive")).toHaveText("Reopen the room");
      await ana.page.getByTestId("room-archive").click();
      await expect(bo.page.getByTestId("room-archived")).toHaveCount(0);
      await send(bo.page, "back in business");
      await expect(row(ana.page, "back in business")).toBeVisible();
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
    } finally {
      await ana.context.close();
      await bo.context.close();
    }
  });

  test(`the owner makes an admin, then removes a member who is watching the room (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    const cy = await person(browser, BASE, "cy", "Cy", { viewport });
    try {
      const path = await createRoom(ana.page, uniqueHandle("team"));
      await openRoom(bo.page, path);
      await openRoom(cy.page, path);
      await send(bo.page, "bo was here");
      await expect(row(ana.page, "bo was here")).toBeVisible();

      // Cy, a member, has no menu on anyone's row.
      const boForCy = await memberRow(cy.page, bo.handle);
      await expect(boForCy.getByTestId("member-menu")).toHaveCount(0);

      // The owner makes Cy an admin: the badge shows at once.
      const cyRow = await memberRow(ana.page, cy.handle);
      await expect(member(ana.page, ana.handle).getByTestId("member-role")).toHaveText("owner");
      await expect(member(ana.page, ana.handle).getByTestId("member-menu")).toHaveCount(0);
      await cyRow.getByTestId("member-menu").click();
      await cyRow.getByTestId("member-make-admin").click();
      await expect(cyRow.getByTestId("member-role")).toHaveText("admin");
      // Cy, watching, is told in the room's order and gets an admin's tools at once.
      await expect(cy.page.getByTestId("notice").last()).toContainText("Ana made Cy an admin");
      await expect((await memberRow(cy.page, bo.handle)).getByTestId("member-menu")).toHaveCount(1);
      // (Below desktop widths the list is a drawer over the messages.)
      const close = cy.page.getByTestId("members-close");
      if (await close.isVisible()) await close.click();

      // Then removes Bo, who is looking at the room.
      const boRow = member(ana.page, bo.handle);
      await boRow.getByTestId("member-menu").click();
      await boRow.getByTestId("member-remove").click();
      await expectAllOnScreen(ana.page, `the removal question (${size})`);
      await boRow.getByTestId("member-action-confirm").click();

      // Bo is taken back to their rooms, told why, and the room is gone from their list.
      await expect(bo.page).toHaveURL(`${BASE}/`);
      await expect(bo.page.getByText(/You are no longer a member of/)).toBeVisible();
      await expect(bo.page.locator(`a[href="${path}"]`)).toHaveCount(0);
      // Everyone else sees the notice, and Bo leaves the owner's list.
      await expect(ana.page.getByTestId("notice").last()).toContainText("Ana removed Bo from the room");
      await expect(cy.page.getByTestId("notice").last()).toContainText("removed Bo from the room");
      await expect(member(ana.page, bo.handle)).toHaveCount(0);
      // Cy, now an admin, can delete Bo's message, without a reload.
      const bos = row(cy.page, "bo was here");
      await bos.hover();
      await bos.getByRole("button", { name: "Delete message" }).click();
      await cy.page.getByRole("alertdialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
      await expect(ana.page.getByText("This message was removed by an admin.")).toBeVisible();

      // The owner bans Cy; Settings lists the ban, and Unban lets Cy back.
      const cyNow = await memberRow(ana.page, cy.handle);
      await cyNow.getByTestId("member-menu").click();
      await cyNow.getByTestId("member-ban").click();
      await cyNow.getByTestId("member-action-confirm").click();
      await expect(cy.page).toHaveURL(`${BASE}/`);
      await expect(member(ana.page, cy.handle)).toHaveCount(0);
      await ana.page.getByTestId("room-about-open").click();
      const settings = ana.page.getByRole("dialog", { name: "About this room" });
      const ban = settings.locator(`[data-testid="banned-user"][data-handle="${cy.handle}"]`);
      await expect(ban).toBeVisible();
      await expectAllOnScreen(ana.page, `the banned list (${size})`);
      await ban.getByTestId("unban").click();
      await expect(settings.getByTestId("banned")).toHaveCount(0);
      await settings.getByRole("button", { name: "Close" }).click();
      await openRoom(cy.page, path);
      await send(cy.page, "cy is back");
      await expect(row(ana.page, "cy is back")).toBeVisible();
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
      expect(cy.problems).toEqual([]);
    } finally {
      await ana.context.close();
      await bo.context.close();
      await cy.context.close();
    }
  });
}
