import { expect, test } from "@playwright/test";

import { createRoom, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";

// Read receipts through the real UI: in a small room, "seen by" sits under the last
// message each other member has read and moves live as they read; it survives a reload;
// and reading on one device clears the unread badge on the person's other device.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("seen-by follows each member's reading, live and after a reload", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const cy = await person(browser, BASE, "cy", "Cy");
  const team = await createRoom(ana.page, uniqueHandle("crew"));
  await openRoom(bo.page, team);
  await openRoom(cy.page, team);
  await cy.page.goto("/");
  await ready(cy.page);

  // Bo has the room open: he reads each message as it arrives.
  await send(ana.page, "first");
  const seen = (text: string) => row(ana.page, text).getByTestId("seen-by");
  await expect(seen("first")).toHaveText("Seen by Bo");
  await send(ana.page, "second");
  await expect(seen("second")).toHaveText("Seen by Bo");
  await expect(seen("first")).toHaveCount(0);

  // Cy comes back and reads: both under the last message.
  await openRoom(cy.page, team);
  await expect(seen("second")).toHaveText("Seen by Bo and Cy");
  // No one is told of their own reading.
  await expect(row(bo.page, "second").getByTestId("seen-by")).toHaveText("Seen by Ana and Cy");

  // After a reload the receipts come from the server as they stand.
  await ana.page.reload();
  await ready(ana.page);
  await expect(seen("second")).toHaveText("Seen by Bo and Cy");

  // Bo on two devices, neither in the room: one message unread on both.
  await cy.page.goto("/");
  await ready(cy.page);
  await bo.page.goto("/");
  await ready(bo.page);
  const laptop = await bo.context.newPage();
  await laptop.goto("/");
  await ready(laptop);
  await send(ana.page, "third");
  const badge = (p: typeof laptop) =>
    p.getByTestId("rooms").locator(`[data-testid="room-link"][href="${team}"]`).getByTestId("unread");
  await expect(badge(bo.page)).toHaveText("1");
  await expect(badge(laptop)).toHaveText("1");
  // He reads it on his phone: the laptop's badge goes, and Ana sees where each stands.
  await openRoom(bo.page, team);
  await expect(badge(laptop)).toHaveCount(0);
  await expect(seen("third")).toHaveText("Seen by Bo");
  await expect(seen("second")).toHaveText("Seen by Cy");
  expect(ana.problems.concat(bo.problems, cy.problems)).toEqual([]);
});
