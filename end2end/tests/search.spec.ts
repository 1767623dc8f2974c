import { expect, test } from "@playwright/test";

import { createRoom, openRoom, person, row, send, uniqueHandle } from "./support/chat";

// Message search through the real UI: hits come only from one's own rooms, ranked, with
// the matched word marked and user text never turned into HTML; a hit opens its room
// scrolled to the message (even one older than the first page), which is marked.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("search finds one's own messages, marks the words and jumps to the message", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const word = uniqueHandle("zq");

  // Bo's private room holds the word too: Ana must never see it.
  await createRoom(bo.page, uniqueHandle("bos"), { private: true });
  await send(bo.page, `${word} only for bo`);
  await expect(row(bo.page, `${word} only for bo`)).toHaveAttribute("data-state", "sent");

  // A public room where the hit is followed by more than a page of other messages.
  const lobby = await createRoom(ana.page, uniqueHandle("lobby"));
  await openRoom(bo.page, lobby);
  await send(bo.page, `the ${word} is early`);
  for (let i = 1; i <= 55; i++) await send(bo.page, `filler ${i}`);
  await expect(row(ana.page, "filler 55")).toBeVisible();
  await expect(row(bo.page, "filler 55")).toHaveAttribute("data-state", "sent");

  // And one of Ana's own private rooms, with markup that must stay text.
  await createRoom(ana.page, uniqueHandle("mine"), { private: true });
  await send(ana.page, `<b>${word}</b> second`);
  await expect(row(ana.page, `<b>${word}</b> second`)).toHaveAttribute("data-state", "sent");

  await ana.page.getByTestId("open-search").click();
  const dialog = ana.page.getByRole("dialog", { name: "Search messages" });
  await dialog.getByLabel("Search messages").fill(word.toUpperCase());
  await dialog.getByLabel("Search messages").press("Enter");
  const hits = dialog.getByTestId("search-hit");
  await expect(hits).toHaveCount(2);
  // Both have the word once, so either order is a right ranking.
  await expect(hits.filter({ hasText: `the ${word} is early` })).toHaveCount(1);
  await expect(hits.filter({ hasText: `<b>${word}</b> second` })).toHaveCount(1);
  await expect(dialog.locator("mark")).toHaveCount(2);
  await expect(dialog.locator("mark").first()).toHaveText(word);
  await expect(dialog.locator("b")).toHaveCount(0);
  await expect(dialog.getByText("only for bo")).toHaveCount(0);

  // The lobby hit opens the lobby at that message, 56 messages back, and marks it.
  await hits.filter({ hasText: "is early" }).click();
  await expect(ana.page).toHaveURL(new RegExp(`${lobby}\\?at=\\d+$`));
  const target = row(ana.page, `the ${word} is early`);
  await expect(target).toHaveClass(/message--target/);
  await expect(target).toBeInViewport();
  await expect(row(ana.page, "filler 55")).not.toBeInViewport();

  // Nothing matches a word nobody wrote.
  await ana.page.getByTestId("open-search").click();
  await dialog.getByLabel("Search messages").fill(uniqueHandle("nothing"));
  await dialog.getByLabel("Search messages").press("Enter");
  await expect(dialog.getByTestId("search-empty")).toBeVisible();

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});
