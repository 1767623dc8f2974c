import { expect, test } from "@playwright/test";
import { mkdirSync } from "node:fs";

import { OwnServer } from "./support/server";
import { bodies, createRoom, member, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";

// The chat as people use it: several browser contexts, each a different person, against
// the real server. Tests that need to restart the server or change its settings start a
// server of their own.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("two people chat live both ways, see each other present, and see typing", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("lobby"));
  await openRoom(bo.page, room);

  await send(ana.page, "hello bo");
  // The sender's own copy turns from pending into the stored message (it gets an id).
  await expect(row(ana.page, "hello bo")).toHaveAttribute("data-state", "sent");
  await expect(row(ana.page, "hello bo")).toHaveAttribute("data-id", /[0-9a-f-]{36}/);
  await expect(row(bo.page, "hello bo")).toBeVisible();
  await send(bo.page, "hi ana, multi\nline");
  await expect(ana.page.getByTestId("messages").getByText("hi ana, multi")).toBeVisible();
  expect(await bodies(ana.page)).toEqual(await bodies(bo.page));

  // Presence: each sees the other online.
  await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "true");
  await expect(member(bo.page, ana.handle)).toHaveAttribute("data-online", "true");

  // Typing shows on the other side and expires by itself.
  await bo.page.getByLabel("Message", { exact: true }).pressSequentially("thinking", { delay: 20 });
  await expect(ana.page.getByTestId("typing")).toHaveText("Bo is typing…");
  await expect(ana.page.getByTestId("typing")).toHaveText("", { timeout: 15_000 });
  await expect(bo.page.getByTestId("typing")).toHaveText("");

  mkdirSync("test-results/screenshots", { recursive: true });
  await ana.page.setViewportSize({ width: 1200, height: 720 });
  await ana.page.screenshot({ path: "test-results/screenshots/chat.png" });

  // Bo opens a second tab, then closes the first: still present. Closing both: gone.
  const second = await bo.context.newPage();
  await openRoom(second, room);
  await bo.page.close();
  await ana.page.waitForTimeout(4_000); // longer than the server's presence grace
  await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "true");
  await second.close();
  await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "false", { timeout: 15_000 });

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

test("edits and deletes reach others live, and an edit the server refuses rolls back", async ({ browser }) => {
  // Edits are allowed for 3 s after posting on this server.
  const server = await OwnServer.start({ CONFAB_EDIT_WINDOW_SECS: "3" });
  try {
    const ana = await person(browser, server.url, "ana", "Ana");
    const bo = await person(browser, server.url, "bo", "Bo");
    const room = await createRoom(ana.page, uniqueHandle("edits"));
    await openRoom(bo.page, room);

    // Up in an empty composer edits one's last message; Enter saves.
    await send(ana.page, "teh plan");
    await expect(row(ana.page, "teh plan")).toHaveAttribute("data-state", "sent");
    const box = ana.page.getByLabel("Message", { exact: true });
    await box.press("ArrowUp");
    await expect(ana.page.getByTestId("editing")).toBeVisible();
    await expect(box).toHaveValue("teh plan");
    await box.fill("the plan");
    await box.press("Enter");
    await expect(row(bo.page, "the plan").getByTestId("edited")).toBeVisible();

    // Esc cancels an edit without changing anything.
    await box.press("ArrowUp");
    await box.fill("not this");
    await box.press("Escape");
    await expect(ana.page.getByTestId("editing")).toHaveCount(0);
    await expect(row(ana.page, "the plan")).toBeVisible();

    // Delete: a tombstone on both sides.
    await send(ana.page, "oops, wrong room");
    const oops = row(ana.page, "oops, wrong room");
    await expect(oops).toHaveAttribute("data-state", "sent");
    await oops.hover();
    await oops.getByRole("button", { name: "Delete message" }).click();
    await ana.page.getByRole("alertdialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
    await expect(ana.page.getByText("This message was deleted.")).toBeVisible();
    await expect(bo.page.getByText("This message was deleted.")).toBeVisible();
    await expect(bo.page.getByTestId("messages").getByText("oops, wrong room")).toHaveCount(0);

    // Past the edit window the server refuses: the change is undone and the reason shown.
    await send(ana.page, "final words");
    await expect(row(ana.page, "final words")).toHaveAttribute("data-state", "sent");
    await ana.page.waitForTimeout(3_500);
    await box.press("ArrowUp");
    await box.fill("rewritten history");
    await box.press("Enter");
    await expect(ana.page.getByTestId("notices")).toContainText("Your change was refused");
    await expect(row(ana.page, "final words")).toHaveAttribute("data-state", "sent");
    await expect(ana.page.getByTestId("messages").getByText("rewritten history")).toHaveCount(0);
    await expect(row(bo.page, "final words")).toBeVisible();
    await expect(bo.page.getByTestId("messages").getByText("rewritten history")).toHaveCount(0);
    expect(ana.problems).toEqual([]);
  } finally {
    await server.down();
  }
});

test("a direct message reaches only its two people, and private rooms stay private", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const cy = await person(browser, BASE, "cy", "Cy");

  // Ana starts a DM with Bo from the directory.
  await ana.page.getByRole("button", { name: "New direct message" }).click();
  const dialog = ana.page.getByRole("dialog", { name: "New direct message" });
  await dialog.getByTestId("user-search").fill(bo.handle);
  await dialog.getByRole("button", { name: `Bo @${bo.handle}` }).click();
  await expect(ana.page).toHaveURL(/\/r\/[0-9a-f-]{36}$/);
  const dm = new URL(ana.page.url()).pathname;
  await expect(ana.page.getByTestId("room-title")).toHaveText("@Bo");
  await send(ana.page, "psst, bo");
  await expect(row(ana.page, "psst, bo")).toHaveAttribute("data-state", "sent");

  // Bo, on the home page, sees the DM appear with an unread count, and opens it.
  const link = bo.page.getByTestId("dms").getByTestId("room-link");
  await expect(link).toHaveCount(1);
  await expect(link.getByTestId("unread")).toHaveText("1");
  await link.click();
  await expect(row(bo.page, "psst, bo")).toBeVisible();
  await expect(link.getByTestId("unread")).toHaveCount(0);

  // Cy can neither list nor open it.
  await expect(cy.page.getByTestId("dms").getByTestId("room-link")).toHaveCount(0);
  await cy.page.goto(dm);
  await expect(cy.page.getByTestId("room-error")).toContainText("This room is private.");
  await expect(cy.page.getByText("psst, bo")).toHaveCount(0);

  // A private room: invisible to Cy, even in the directory, until someone invites him.
  const secretName = uniqueHandle("secret");
  const secret = await createRoom(ana.page, secretName, { private: true });
  await send(ana.page, "for members only");
  await cy.page.goto("/");
  await ready(cy.page);
  await cy.page.getByRole("button", { name: "Browse rooms" }).first().click();
  await expect(cy.page.getByRole("dialog", { name: "Browse rooms" })).toBeVisible();
  await expect(cy.page.getByRole("dialog").getByText(secretName)).toHaveCount(0);
  await cy.page.goto(secret);
  await expect(cy.page.getByTestId("room-error")).toBeVisible();
  await expect(cy.page.getByText("for members only")).toHaveCount(0);

  // Ana invites Bo: the room appears in Bo's sidebar by itself.
  await ana.page.getByRole("button", { name: "Invite" }).click();
  const invite = ana.page.getByRole("dialog", { name: "Invite someone" });
  await invite.getByTestId("user-search").fill(bo.handle);
  await invite.getByRole("button", { name: `Bo @${bo.handle}` }).click();
  await expect(ana.page.getByTestId("notices")).toContainText("Bo was added to the room.");
  await expect(bo.page.getByTestId("rooms").getByText(secretName)).toBeVisible();
  await bo.page.getByTestId("rooms").getByText(secretName).click();
  await expect(row(bo.page, "for members only")).toBeVisible();
});

test("a room's topic, given when it is created, shows in its header and in Browse", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  try {
    const name = uniqueHandle("topical");
    const room = await createRoom(ana.page, name, { topic: "  Where the spring release is planned  " });
    await expect(ana.page.getByTestId("room-topic")).toHaveText("Where the spring release is planned");
    await bo.page.getByRole("button", { name: "Browse rooms" }).first().click();
    const browse = bo.page.getByRole("dialog", { name: "Browse rooms" });
    const entry = browse.getByRole("link").filter({ hasText: name });
    await expect(entry.getByTestId("public-room-topic")).toHaveText("Where the spring release is planned");
    await entry.click();
    await expect(bo.page).toHaveURL(new RegExp(`${room}$`));
    await expect(bo.page.getByTestId("room-topic")).toHaveText("Where the spring release is planned");
    // A room made without one shows none.
    await createRoom(ana.page, uniqueHandle("plain"));
    await expect(ana.page.getByTestId("room-topic")).toHaveCount(0);
    expect(ana.problems.concat(bo.problems)).toEqual([]);
  } finally {
    await ana.context.close();
    await bo.context.close();
  }
});

test("message text is shown as text and never runs", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("xss"));
  await openRoom(bo.page, room);
  const img = `<img src=x onerror="window.__pwned = 1; alert(1)">`;
  const script = `<script>window.__pwned = 2; alert(2)</script>`;
  const link = "see https://example.com/docs?a=1&b=<b>";
  await send(ana.page, img);
  await send(ana.page, script);
  await send(ana.page, link);
  for (const page of [ana.page, bo.page]) {
    await expect(row(page, img)).toBeVisible();
    await expect(row(page, script)).toBeVisible();
  }
  // The server-rendered page escapes it too.
  await bo.page.reload();
  await ready(bo.page);
  for (const page of [ana.page, bo.page]) {
    await expect(row(page, img)).toBeVisible();
    expect(await page.getByTestId("messages").locator("img, script").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // Links become anchors that open elsewhere, and only http(s) ones.
    const anchor = page.getByTestId("messages").getByRole("link", { name: "https://example.com/docs?a=1&b=<b>" });
    await expect(anchor).toHaveAttribute("rel", /noopener/);
  }
  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

test("scrolling up loads older messages, and new ones show a marker when scrolled away", async ({ browser }) => {
  test.setTimeout(90_000);
  const ana = await person(browser, BASE, "ana", "Ana");
  const room = await createRoom(ana.page, uniqueHandle("history"));
  // Fill the room through a second socket of Ana's, as fast as the rate limit allows
  // (a burst of 50 requests, then 20 a second).
  const roomId = room.split("/").pop()!;
  await ana.page.evaluate(async (roomId) => {
    const ws = new WebSocket(`ws://${location.host}/ws`, "confab.v1");
    await new Promise((r) => (ws.onopen = r));
    let acked = 0;
    ws.onmessage = (e) => {
      if (JSON.parse(e.data).type === "ack") acked++;
    };
    ws.send(JSON.stringify({ type: "subscribe", req: 1, room: roomId }));
    for (let i = 1; i <= 130; i++) {
      ws.send(JSON.stringify({ type: "send", req: 1 + i, room: roomId, client_msg_id: `fill-${i}`, body: `m ${i}` }));
      if (i >= 45 && (i - 45) % 18 === 0) await new Promise((r) => setTimeout(r, 1000));
    }
    while (acked < 131) await new Promise((r) => setTimeout(r, 50));
    ws.close();
  }, roomId);
  await ana.page.reload();
  await ready(ana.page);
  const list = ana.page.getByTestId("messages");
  await expect(row(ana.page, "m 130")).toBeVisible();
  await expect(row(ana.page, "m 1")).toHaveCount(0);
  await expect(async () => {
    await list.evaluate((el) => (el.scrollTop = 0));
    await expect(row(ana.page, "m 1")).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(list).toContainText("This is the start of the conversation.");
  const all = await bodies(ana.page);
  expect(all).toEqual(Array.from({ length: 130 }, (_, i) => `m ${i + 1}`));

  // Scrolled up, a new message does not move the view: a marker offers to jump down.
  const bo = await person(browser, BASE, "bo", "Bo");
  await openRoom(bo.page, room);
  await list.evaluate((el) => (el.scrollTop = 0));
  await send(bo.page, "news at the bottom");
  await expect(ana.page.getByTestId("new-messages")).toBeVisible();
  await ana.page.getByTestId("new-messages").click();
  await expect(row(ana.page, "news at the bottom")).toBeInViewport();
});

test("the server restarts mid-conversation: pages reconnect, send what was queued, and agree", async ({ browser }) => {
  test.setTimeout(120_000);
  const server = await OwnServer.start();
  try {
    const ana = await person(browser, server.url, "ana", "Ana");
    const bo = await person(browser, server.url, "bo", "Bo");
    const room = await createRoom(ana.page, uniqueHandle("restart"));
    await openRoom(bo.page, room);
    await send(ana.page, "before 1");
    await send(bo.page, "before 2");
    await expect(row(ana.page, "before 2")).toBeVisible();

    await server.down();
    for (const p of [ana.page, bo.page]) {
      await expect(p.getByTestId("connection")).toHaveAttribute("data-state", /reconnecting|connecting/);
    }
    // Written while the server is away: shown at once as pending.
    await send(ana.page, "while away 1");
    await send(bo.page, "while away 2");
    await send(ana.page, "while away 3");
    await expect(row(ana.page, "while away 1")).toHaveAttribute("data-state", "pending");
    await expect(row(bo.page, "while away 2")).toHaveAttribute("data-state", "pending");

    await server.up();
    for (const p of [ana.page, bo.page]) {
      await expect(p.getByTestId("connection")).toHaveAttribute("data-state", "connected", { timeout: 40_000 });
    }
    for (const p of [ana.page, bo.page]) {
      for (const text of ["while away 1", "while away 2", "while away 3"]) {
        await expect(row(p, text)).toHaveAttribute("data-state", "sent", { timeout: 15_000 });
      }
    }
    const anaSees = await bodies(ana.page);
    expect(anaSees).toEqual(await bodies(bo.page));
    expect([...anaSees].sort()).toEqual(["before 1", "before 2", "while away 1", "while away 2", "while away 3"].sort());
    expect(anaSees.indexOf("while away 1")).toBeLessThan(anaSees.indexOf("while away 3"));

    // A message written offline survives a reload of the tab and is sent once.
    await server.down();
    await send(ana.page, "written, then reloaded");
    await expect(row(ana.page, "written, then reloaded")).toHaveAttribute("data-state", "pending");
    await ana.page.reload().catch(() => {}); // the server is down: an error page
    await server.up();
    await openRoom(ana.page, room);
    await expect(row(ana.page, "written, then reloaded")).toHaveAttribute("data-state", "sent", { timeout: 20_000 });
    await expect(row(bo.page, "written, then reloaded")).toHaveCount(1, { timeout: 40_000 });
    await ana.page.reload();
    await ready(ana.page);
    await expect(row(ana.page, "written, then reloaded")).toHaveCount(1);
    expect(await bodies(ana.page)).toEqual(await bodies(bo.page));
  } finally {
    await server.down();
  }
});
