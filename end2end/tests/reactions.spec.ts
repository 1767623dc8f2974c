import { expect, test, type Page } from "@playwright/test";

import { createRoom, openRoom, person, row, send, uniqueHandle } from "./support/chat";

// Reactions between two people, live both ways, through the real UI: the picker adds one,
// a chip shows the emoji and count (its title says who), and one's own chip takes it back.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

function chip(page: Page, text: string, emoji: string) {
  return row(page, text).locator(`[data-testid="reaction"][data-emoji="${emoji}"]`);
}

async function pick(page: Page, text: string, emoji: string) {
  const message = row(page, text);
  await message.hover();
  await message.getByRole("button", { name: "Add reaction" }).click();
  await message.getByRole("menuitem", { name: `React with ${emoji}` }).click();
}

test("two people see each other's reactions live, with counts and who", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("reacts"));
  await openRoom(bo.page, room);
  await send(ana.page, "react to me");
  await expect(row(ana.page, "react to me")).toHaveAttribute("data-state", "sent");
  await expect(row(bo.page, "react to me")).toBeVisible();

  // Bo reacts from the picker; Ana sees it at once, and who it was.
  await pick(bo.page, "react to me", "👍");
  await expect(chip(ana.page, "react to me", "👍").getByTestId("reaction-count")).toHaveText("1");
  await expect(chip(ana.page, "react to me", "👍")).toHaveAttribute("title", "Bo reacted with 👍");
  await expect(chip(ana.page, "react to me", "👍")).toHaveAttribute("aria-pressed", "false");
  await expect(chip(bo.page, "react to me", "👍")).toHaveAttribute("aria-pressed", "true");

  // Ana joins in by clicking Bo's chip: two, on both screens.
  await chip(ana.page, "react to me", "👍").click();
  for (const page of [ana.page, bo.page]) {
    await expect(chip(page, "react to me", "👍").getByTestId("reaction-count")).toHaveText("2");
  }
  await expect(chip(bo.page, "react to me", "👍")).toHaveAttribute("title", "You and Ana reacted with 👍");
  await expect(chip(ana.page, "react to me", "👍")).toHaveAttribute("aria-pressed", "true");

  // Ana adds another emoji; Bo takes his thumbs-up back by clicking his own chip.
  await pick(ana.page, "react to me", "🎉");
  await expect(chip(bo.page, "react to me", "🎉").getByTestId("reaction-count")).toHaveText("1");
  await chip(bo.page, "react to me", "👍").click();
  await expect(chip(ana.page, "react to me", "👍").getByTestId("reaction-count")).toHaveText("1");
  await expect(chip(ana.page, "react to me", "👍")).toHaveAttribute("title", "You reacted with 👍");
  await expect(chip(bo.page, "react to me", "👍")).toHaveAttribute("aria-pressed", "false");

  // Ana takes hers back too: the chip goes for both.
  await chip(ana.page, "react to me", "👍").click();
  for (const page of [ana.page, bo.page]) {
    await expect(chip(page, "react to me", "👍")).toHaveCount(0);
  }

  // After a reload (server-rendered, then live again) the reactions are still there, and
  // they keep arriving.
  await bo.page.reload();
  await expect(bo.page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await expect(chip(bo.page, "react to me", "🎉")).toHaveAttribute("title", "Ana reacted with 🎉");
  await expect(bo.page.getByTestId("connection")).toHaveAttribute("data-state", "connected");
  await pick(ana.page, "react to me", "👀");
  await expect(chip(bo.page, "react to me", "👀").getByTestId("reaction-count")).toHaveText("1");

  // A reaction is not a new message: with Bo in another room, a reaction and then a
  // message leave one unread in the first room, not two.
  await createRoom(bo.page, uniqueHandle("elsewhere"));
  const roomId = room.split("/").pop();
  const link = bo.page.locator(`[data-testid="room-link"][data-room="${roomId}"]`);
  await expect(link).toBeVisible();
  await pick(ana.page, "react to me", "😮");
  await expect(chip(ana.page, "react to me", "😮")).toBeVisible();
  await send(ana.page, "and now a message");
  await expect(link.getByTestId("unread")).toHaveText("1");

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});
