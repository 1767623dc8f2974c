import { expect, test } from "@playwright/test";

import { createRoom, person, ready, row, send, uniqueHandle } from "./support/chat";
import { SIZES, expectAllOnScreen } from "./support/viewport";

// An invite link made in the real UI: in a private room's invite dialog a member makes a
// link, sees it in full (selected when focused, with a Copy button), and someone else,
// signed in, who opens it joins the room and lands in it, history included. At phone and
// desktop widths.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

for (const size of ["phone", "desktop"] as const) {
  test(`a private room's invite link takes someone else into the room (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    try {
      const name = uniqueHandle("linked");
      const path = await createRoom(ana.page, name, { private: true });
      await send(ana.page, "before the link");

      await ana.page.getByRole("button", { name: "Invite" }).click();
      const invite = ana.page.getByRole("dialog", { name: "Invite someone" });
      await invite.getByTestId("invite-link-create").click();
      const field = invite.getByTestId("invite-link");
      await expect(field).toHaveValue(new RegExp(`^${BASE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/join/cfb_`));
      await expect(invite.getByTestId("invite-link-copy")).toBeVisible();
      await expectAllOnScreen(ana.page, `the invite dialog with its link (${size})`);
      const link = await field.inputValue();
      await invite.getByTestId("invite-link-copy").click();
      await expect(invite.getByTestId("invite-link-copy")).toHaveText("Copied");

      // Bo, not a member, is refused the room, then opens the link and is in it.
      await bo.page.goto(path);
      await expect(bo.page.getByTestId("room-error")).toBeVisible();
      await bo.page.goto(link);
      await expect(bo.page).toHaveURL(new RegExp(`${path}$`));
      await ready(bo.page);
      await expect(bo.page.getByTestId("room-title")).toContainText(name.toLowerCase());
      await expect(row(bo.page, "before the link")).toBeVisible();
      await send(bo.page, "in by the link");
      await expect(row(ana.page, "in by the link")).toBeVisible();
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
    } finally {
      await ana.page.context().close();
      await bo.page.context().close();
    }
  });
}
