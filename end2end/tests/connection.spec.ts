import { expect, test, type Page } from "@playwright/test";

import { OwnServer } from "./support/server";
import { createRoom, member, openRoom, person, row, send, uniqueHandle } from "./support/chat";

// The browser's connection under bad networks: the browser going offline and coming back,
// changes made meanwhile (and kept over a reload), a server that stays away (the member
// list keeps its last state, "Reconnect now"). A reconnect that replays many rooms and
// queued messages within the server's rate limit is many-rooms.spec.ts.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

/** Deletes one's message `text` through its tools (confirming if the page asks). */
async function deleteMessage(page: Page, text: string) {
  const line = row(page, text);
  await line.hover();
  await line.getByRole("button", { name: "Delete message" }).click();
  const confirm = page.getByRole("button", { name: /^(Delete|Yes, delete)$/ });
  if (await confirm.isVisible().catch(() => false)) await confirm.click();
}

/** Edits one's last message (Up in an empty composer) to read `text`. */
async function editLast(page: Page, text: string) {
  const box = page.getByLabel("Message", { exact: true });
  await box.press("ArrowUp");
  await expect(page.getByTestId("editing")).toBeVisible();
  await box.fill(text);
  await box.press("Enter");
}

test("offline: the badge says so, messages wait for the network, and offline edits and deletes arrive after reconnect and after a reload", async ({ browser }) => {
  test.setTimeout(90_000);
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("offline"));
  await openRoom(bo.page, room);
  for (const text of ["keep me", "drop me", "edit me"]) {
    await send(ana.page, text);
    await expect(row(ana.page, text)).toHaveAttribute("data-state", "sent");
  }
  await expect(row(bo.page, "edit me")).toBeVisible();

  // The browser goes offline: the badge says so at once.
  await ana.context.setOffline(true);
  const badge = ana.page.getByTestId("connection");
  await expect(badge).toHaveAttribute("data-state", "offline");
  await expect(badge).toHaveText("Offline: no network");

  // An edit, a delete and a message, all made offline, shown at once.
  await editLast(ana.page, "edited offline");
  await expect(row(ana.page, "edited offline")).toBeVisible();
  await deleteMessage(ana.page, "drop me");
  await expect(row(ana.page, "drop me")).toHaveCount(0);
  await send(ana.page, "typed offline");
  const status = row(ana.page, "typed offline").getByTestId("send-status");
  await expect(status).toHaveText("Waiting for the network…");
  // Longer than the send timeout (10 s): it still waits for the network, blaming no one.
  await ana.page.waitForTimeout(11_000);
  await expect(status).toHaveText("Waiting for the network…");
  await expect(row(ana.page, "typed offline")).toHaveAttribute("data-state", "pending");
  await expect(row(bo.page, "edit me")).toBeVisible();
  await expect(row(bo.page, "drop me")).toBeVisible();

  // Back online: reconnected at once, and everything reaches Bo, once, in order.
  await ana.context.setOffline(false);
  await expect(badge).toHaveAttribute("data-state", "connected", { timeout: 10_000 });
  await expect(row(bo.page, "edited offline").getByTestId("edited")).toBeVisible();
  await expect(row(bo.page, "edit me")).toHaveCount(0);
  await expect(bo.page.getByText("drop me")).toHaveCount(0);
  await expect(row(bo.page, "typed offline")).toHaveCount(1);
  await expect(row(ana.page, "typed offline")).toHaveAttribute("data-state", "sent");

  // Offline again, an edit and a delete, then the tab is reloaded before the network
  // returns: the changes were kept and are sent once it does.
  await ana.context.setOffline(true);
  await expect(badge).toHaveAttribute("data-state", "offline");
  await editLast(ana.page, "edited before reload");
  await deleteMessage(ana.page, "keep me");
  await expect(row(ana.page, "keep me")).toHaveCount(0);
  await ana.page.reload().catch(() => {}); // offline: an error page
  await ana.context.setOffline(false);
  await openRoom(ana.page, room);
  await expect(row(bo.page, "edited before reload").getByTestId("edited")).toBeVisible({ timeout: 15_000 });
  await expect(bo.page.getByText("keep me")).toHaveCount(0);
  await expect(row(bo.page, "typed offline")).toHaveCount(0);
  await expect(row(ana.page, "edited before reload")).toBeVisible();
  await expect(row(ana.page, "keep me")).toHaveCount(0);
  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

test("while the server is away the member list keeps its last state, marked stale, and Reconnect now cuts the wait short", async ({ browser }) => {
  test.setTimeout(90_000);
  const server = await OwnServer.start();
  try {
    const ana = await person(browser, server.url, "ana", "Ana");
    const bo = await person(browser, server.url, "bo", "Bo");
    const room = await createRoom(ana.page, uniqueHandle("stale"));
    await openRoom(bo.page, room);
    await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "true");
    const members = ana.page.getByTestId("members");
    await expect(members).toHaveAttribute("data-stale", "false");

    await server.down();
    const badge = ana.page.getByTestId("connection");
    await expect(badge).toHaveAttribute("data-state", /reconnecting|connecting/);
    // The last known state, marked as such: Bo (and Ana) still listed online.
    await expect(members).toHaveAttribute("data-stale", "true");
    await expect(ana.page.getByTestId("members-stale")).toBeVisible();
    await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "true");
    await expect(member(ana.page, ana.handle)).toHaveAttribute("data-online", "true");

    // The backoff grows while the server stays away; wait for a long wait.
    await expect(badge).toHaveText(/Reconnecting in ([4-9]|\d\d) s/, { timeout: 40_000 });
    await server.up();
    await ana.page.getByTestId("reconnect-now").click();
    // Connected well before the wait the badge announced would have ended.
    await expect(badge).toHaveAttribute("data-state", "connected", { timeout: 3_000 });
    await expect(ana.page.getByTestId("reconnect-now")).toHaveCount(0);
    await expect(members).toHaveAttribute("data-stale", "false");
    await expect(member(ana.page, ana.handle)).toHaveAttribute("data-online", "true");
    expect(ana.problems).toEqual([]);
  } finally {
    await server.down();
  }
});
