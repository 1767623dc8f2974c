import { expect, test } from "@playwright/test";

import { createRoom, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";

// Threads through the real UI: a reply goes beside the room, not into it; the root shows
// the reply count and last reply, live; a thread has its own unread mark, cleared by
// reading it; the room's own unread count ignores replies; all of it survives a reload.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("replies live in a thread beside the room, counted on their root, with their own unread mark", async ({
  browser,
}) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const team = await createRoom(ana.page, uniqueHandle("desk"));
  await openRoom(bo.page, team);
  await send(ana.page, "who is on call?");
  await expect(row(bo.page, "who is on call?")).toBeVisible();

  // Bo replies in a thread.
  await row(bo.page, "who is on call?").hover();
  await row(bo.page, "who is on call?").getByRole("button", { name: "Reply in thread" }).click();
  const pane = bo.page.getByTestId("thread");
  await expect(pane.getByTestId("thread-root")).toContainText("who is on call?");
  await pane.getByTestId("thread-input").fill("me, until six");
  await pane.getByTestId("thread-input").press("Enter");
  await expect(pane.getByTestId("reply")).toHaveCount(1);
  await expect(pane.getByTestId("reply")).toContainText("me, until six");
  await expect(pane.getByTestId("thread-input")).toHaveValue("");

  // Not in the room's list; on the root, live, for Ana: one reply, new to her.
  await expect(row(ana.page, "me, until six")).toHaveCount(0);
  const link = row(ana.page, "who is on call?").getByTestId("thread-link");
  await expect(link).toContainText("1 reply");
  await expect(link).toHaveAttribute("data-unread", "true");
  // Bo read his own thread as he wrote in it.
  await expect(row(bo.page, "who is on call?").getByTestId("thread-link")).toHaveAttribute("data-unread", "false");

  // Ana opens it, reads, and answers; Bo sees her answer in his open thread.
  await link.click();
  const anaPane = ana.page.getByTestId("thread");
  await expect(anaPane.getByTestId("reply")).toHaveCount(1);
  await expect(link).toHaveAttribute("data-unread", "false");
  await anaPane.getByTestId("thread-input").fill("thanks **bo**");
  await anaPane.getByTestId("thread-input").press("Enter");
  await expect(pane.getByTestId("reply")).toHaveCount(2);
  await expect(pane.getByTestId("reply").nth(1).locator("strong")).toHaveText("bo");
  await expect(link).toContainText("2 replies");

  // A reload keeps the summary and the read state; the room's unread count for Bo, who
  // stepped away, counts Ana's room message but not her reply.
  await bo.page.goto("/");
  await ready(bo.page);
  await send(ana.page, "standup in five");
  await anaPane.getByTestId("thread-input").fill("one more thing");
  await anaPane.getByTestId("thread-input").press("Enter");
  await expect(anaPane.getByTestId("reply")).toHaveCount(3);
  const roomLink = bo.page.getByTestId("rooms").locator(`[data-testid="room-link"][href="${team}"]`);
  await expect(roomLink.getByTestId("unread")).toHaveText("1");
  await openRoom(bo.page, team);
  const boLink = row(bo.page, "who is on call?").getByTestId("thread-link");
  await expect(boLink).toContainText("3 replies");
  await expect(boLink).toHaveAttribute("data-unread", "true");
  await ana.page.reload();
  await expect(row(ana.page, "who is on call?").getByTestId("thread-link")).toHaveAttribute("data-unread", "false");

  // Bo deletes his reply: a tombstone in the thread, and one reply fewer on the root.
  await boLink.click();
  const boPane = bo.page.getByTestId("thread");
  await expect(boPane.getByTestId("reply")).toHaveCount(3);
  await boPane.getByTestId("reply").first().hover();
  await boPane.getByTestId("reply").first().getByRole("button", { name: "Delete reply" }).click();
  await bo.page.getByRole("alertdialog", { name: "Delete this reply?" }).getByRole("button", { name: "Delete" }).click();
  await expect(boPane.getByTestId("reply").first()).toContainText("This reply was deleted.");
  await expect(boLink).toContainText("2 replies");
  await expect(row(ana.page, "who is on call?").getByTestId("thread-link")).toContainText("2 replies");
  expect(ana.problems.concat(bo.problems)).toEqual([]);
});
