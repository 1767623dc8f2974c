import { expect, test, type Page } from "@playwright/test";

import { createRoom, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";

// Mentions through the real UI: `@` suggests the room's members and fills in the
// handle; a mention is highlighted (more so for the one it names); the sidebar counts
// mentions apart from other unread messages; and with notifications allowed, a mention
// or a DM that arrives while the tab is hidden raises a browser notification (and only
// then).

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

// Runs before the app in every page of Bo's context: records each notification the page
// raises (the browser's own Notification still shows it), and lets the test say whether
// the tab is hidden (a headless tab is always visible).
const WATCH_NOTIFICATIONS = () => {
  const Real = window.Notification;
  const w = window as unknown as { __shown: { title: string; body?: string }[]; __hidden: boolean };
  w.__shown = [];
  w.__hidden = false;
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      w.__shown.push({ title, body: options?.body });
      super(title, options);
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Object.defineProperty(Recorded, "requestPermission", { value: Real.requestPermission.bind(Real) });
  window.Notification = Recorded as unknown as typeof Notification;
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true,
    get: () => (w.__hidden ? "hidden" : "visible"),
  });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => w.__hidden });
};

async function shown(page: Page): Promise<{ title: string; body?: string }[]> {
  return page.evaluate(() => (window as unknown as { __shown: { title: string; body?: string }[] }).__shown);
}

async function setHidden(page: Page, hidden: boolean) {
  await page.evaluate((h) => {
    (window as unknown as { __hidden: boolean }).__hidden = h;
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

test("@ suggests members, mentions are highlighted and counted apart in the sidebar", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo Brown");
  const name = uniqueHandle("team");
  const team = await createRoom(ana.page, name);
  await openRoom(bo.page, team);
  await bo.page.goto("/");
  await ready(bo.page);
  // Ana's page lists Bo as a member now.
  await openRoom(ana.page, team);

  const box = ana.page.getByLabel("Message", { exact: true });
  await box.pressSequentially(`hi @${bo.handle.slice(0, 4)}`);
  const list = ana.page.getByTestId("mention-suggestions");
  await expect(list).toBeVisible();
  await expect(list.getByTestId("mention-option").first()).toContainText(`@${bo.handle}`);
  await expect(list.getByTestId("mention-option").first()).toContainText("Bo Brown");
  await box.press("Tab");
  await expect(list).toBeHidden();
  await expect(box).toHaveValue(`hi @${bo.handle} `);
  await box.pressSequentially("lunch?");
  await box.press("Enter");
  const sent = row(ana.page, `hi @${bo.handle} lunch?`);
  await expect(sent).toHaveAttribute("data-state", "sent");
  // Highlighted as a mention, but not as one of Ana.
  await expect(sent.getByTestId("mention")).toHaveText(`@${bo.handle}`);
  await expect(sent.getByTestId("mention")).not.toHaveClass(/mention--me/);
  await expect(sent).not.toHaveClass(/message--mentions-me/);

  // A name finds its person too; Escape closes the list; @room is offered and clicked.
  await box.pressSequentially("@Brow");
  await expect(list.getByTestId("mention-option")).toHaveCount(1);
  await box.press("Escape");
  await expect(list).toBeHidden();
  await box.fill("");
  await box.pressSequentially("@ro");
  await expect(list.getByTestId("mention-option").filter({ hasText: "@room" })).toBeVisible();
  await list.getByTestId("mention-option").filter({ hasText: "@room" }).click();
  await expect(box).toHaveValue("@room ");
  await box.pressSequentially("standup now");
  await box.press("Enter");
  await send(ana.page, "no one named here");
  await expect(row(ana.page, "no one named here")).toHaveAttribute("data-state", "sent");

  // Bo, elsewhere: three unread, two of them mentions.
  const link = bo.page.getByTestId("rooms").locator(`[data-testid="room-link"][href="${team}"]`);
  await expect(link.getByTestId("unread")).toHaveText("3");
  await expect(link.getByTestId("mentions")).toHaveText("@2");
  await expect(link).toHaveAttribute("aria-label", `${name}, 3 unread, 2 mentions`);

  // After a reload the counts come from the server.
  await bo.page.reload();
  await ready(bo.page);
  await expect(link.getByTestId("mentions")).toHaveText("@2");

  // Opening the room reads it: the counts go, and his mentions stand out.
  await link.click();
  await expect(link.getByTestId("unread")).toHaveCount(0);
  await expect(link.getByTestId("mentions")).toHaveCount(0);
  const mine = row(bo.page, `hi @${bo.handle} lunch?`);
  await expect(mine).toHaveClass(/message--mentions-me/);
  await expect(mine.getByTestId("mention")).toHaveClass(/mention--me/);
  await expect(row(bo.page, "@room standup now")).toHaveClass(/message--mentions-me/);
  await expect(row(bo.page, "no one named here")).not.toHaveClass(/message--mentions-me/);
  // Markup typed around a mention stays text.
  const marked = `<b>hey</b> @${bo.handle} ok`;
  await send(ana.page, marked);
  await expect(row(bo.page, marked).getByTestId("mention")).toHaveText(`@${bo.handle}`);
  await expect(row(bo.page, marked).locator("b")).toHaveCount(0);
  expect(ana.problems.concat(bo.problems)).toEqual([]);
});

test("mentions and DMs raise a notification while the tab is hidden, once allowed", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  await bo.context.addInitScript(WATCH_NOTIFICATIONS);
  const name = uniqueHandle("ops");
  const ops = await createRoom(ana.page, name);
  await openRoom(bo.page, ops);

  // Nothing is asked until Bo chooses; once the browser allows it, the offer goes.
  const offer = bo.page.getByTestId("enable-notifications");
  await expect(offer).toBeVisible();
  await bo.context.grantPermissions(["notifications"], { origin: BASE });
  await offer.click();
  await expect(offer).toBeHidden();

  // Watching the room, tab visible: nothing. Hidden: a mention raises one with its text,
  // a plain message does not.
  await send(ana.page, `@${bo.handle} visible now`);
  await expect(row(bo.page, `@${bo.handle} visible now`)).toBeVisible();
  await setHidden(bo.page, true);
  await send(ana.page, "plain while hidden");
  await send(ana.page, `@${bo.handle} are you there?`);
  await expect(row(bo.page, `@${bo.handle} are you there?`)).toBeVisible();
  await expect.poll(() => shown(bo.page)).toEqual([
    { title: `Ana mentioned you in #${name}`, body: `@${bo.handle} are you there?` },
  ]);

  // A DM (already open in his list) while he is in another room and hidden.
  await setHidden(bo.page, false);
  await ana.page.getByRole("button", { name: "New direct message" }).click();
  const dialog = ana.page.getByRole("dialog", { name: "New direct message" });
  await dialog.getByTestId("user-search").fill(bo.handle);
  await dialog.getByRole("button", { name: `Bo @${bo.handle}` }).click();
  await expect(ana.page.getByTestId("room-title")).toHaveText("@Bo");
  await send(ana.page, "first dm");
  await expect(bo.page.getByTestId("dms").getByTestId("room-link")).toHaveCount(1);
  await expect(bo.page.getByTestId("dms").getByTestId("unread")).toHaveText("1");
  expect(await shown(bo.page)).toHaveLength(1);
  await setHidden(bo.page, true);
  await send(ana.page, "second dm");
  await expect(bo.page.getByTestId("dms").getByTestId("unread")).toHaveText("2");
  await expect.poll(async () => (await shown(bo.page)).slice(1)).toEqual([{ title: "Ana", body: "New message" }]);
  expect(ana.problems.concat(bo.problems)).toEqual([]);
});
