import { expect, test } from "@playwright/test";

import { person, ready, row, send } from "./support/chat";
import { SIZES, expectAllOnScreen } from "./support/viewport";

// A group direct message as a person starts it, in the real UI on the real server: Ana
// picks Bo and Cy with "+ Group" in the New direct message dialog and starts it; both of
// them find it in their direct messages, titled with the others' names, and read what she
// wrote there; Di, not in it, sees nothing of it and cannot open it. At phone and desktop
// widths.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

for (const size of ["phone", "desktop"] as const) {
  test(`a group message reaches the people picked and no one else (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    const cy = await person(browser, BASE, "cy", "Cy", { viewport });
    const di = await person(browser, BASE, "di", "Di", { viewport });
    try {
      await ana.page.getByRole("button", { name: "New direct message" }).click();
      const dialog = ana.page.getByRole("dialog", { name: "New direct message" });
      const search = dialog.getByTestId("user-search");
      for (const who of [bo, cy]) {
        await search.fill(who.handle);
        await dialog.getByRole("button", { name: `Add ${who.name} to a group message` }).click();
      }
      const picked = dialog.getByTestId("group-pick");
      await expect(picked.getByTestId("group-person")).toHaveText(["Bo", "Cy"]);
      // One taken out and put back: the start waits for two.
      await picked.getByRole("button", { name: "Take Cy out of the group" }).click();
      await expect(dialog.getByTestId("start-group")).toBeDisabled();
      await dialog.getByRole("button", { name: `Add Cy to a group message` }).click();
      await expectAllOnScreen(ana.page, `the group picker (${size})`);
      await dialog.getByTestId("start-group").click();

      await expect(ana.page).toHaveURL(/\/r\/[0-9a-f-]{36}$/);
      const group = new URL(ana.page.url()).pathname;
      await expect(ana.page.getByTestId("room-title")).toHaveText("@Bo, Cy");
      await send(ana.page, "lunch at noon?");
      await expect(row(ana.page, "lunch at noon?")).toHaveAttribute("data-state", "sent");

      // Bo and Cy find it among their DMs, titled with the others, and read it.
      for (const [who, title] of [[bo, "Ana, Cy"], [cy, "Ana, Bo"]] as const) {
        const link = who.page.getByTestId("dms").getByTestId("room-link");
        await expect(link).toHaveCount(1);
        await expect(link).toContainText(title);
        await expect(link.getByTestId("unread")).toHaveText("1");
        await link.click();
        await expect(row(who.page, "lunch at noon?")).toBeVisible();
      }
      await send(cy.page, "yes!");
      await expect(row(bo.page, "yes!")).toBeVisible();
      await expect(row(ana.page, "yes!")).toBeVisible();

      // Di has no such DM and cannot open it.
      await expect(di.page.getByTestId("dms").getByTestId("room-link")).toHaveCount(0);
      await di.page.goto(group);
      await expect(di.page.getByTestId("room-error")).toContainText("This room is private.");
      await expect(di.page.getByText("lunch at noon?")).toHaveCount(0);

      // Opening the same people again, from Bo's side, comes back to the same room.
      await bo.page.goto("/");
      await ready(bo.page);
      await bo.page.getByRole("button", { name: "New direct message" }).click();
      const again = bo.page.getByRole("dialog", { name: "New direct message" });
      for (const who of [cy, ana]) {
        await again.getByTestId("user-search").fill(who.handle);
        await again.getByRole("button", { name: `Add ${who.name} to a group message` }).click();
      }
      await again.getByTestId("start-group").click();
      await expect(bo.page).toHaveURL(new RegExp(`${group}$`));
      for (const p of [ana, bo, cy, di]) expect(p.problems).toEqual([]);
    } finally {
      for (const p of [ana, bo, cy, di]) await p.context.close();
    }
  });
}
