import { expect, test } from "@playwright/test";

import { OwnServer } from "./support/server";
import { bodies, createRoom, member, openRoom, person, row, send, uniqueHandle } from "./support/chat";

// Two nodes of one cluster (one Postgres database, one Redis), each person on a different
// node: what they see — messages, presence, typing — is what they would see on one server.

/** Two nodes of a fresh cluster: the suite's Postgres database and Redis, a prefix of their own. */
async function twoNodes(): Promise<[OwnServer, OwnServer]> {
  const db = process.env.CONFAB_E2E_DATABASE_URL;
  const redis = process.env.CONFAB_E2E_REDIS_URL;
  if (!db || !redis) {
    throw new Error("CONFAB_E2E_DATABASE_URL and CONFAB_E2E_REDIS_URL must be set (scripts/test.sh sets them)");
  }
  const env = { DATABASE_URL: db, REDIS_URL: redis, CONFAB_REDIS_PREFIX: `e2e-${uniqueHandle("c")}` };
  return [await OwnServer.start(env), await OwnServer.start(env)];
}

test("two people on two different nodes of a cluster chat live", async ({ browser }) => {
  const [a, b] = await twoNodes();
  try {
    const ana = await person(browser, a.url, "ana", "Ana");
    const bo = await person(browser, b.url, "bo", "Bo");
    const room = await createRoom(ana.page, uniqueHandle("cluster"));
    await openRoom(bo.page, room);

    // Each sees the other online, though they are connected to different nodes.
    await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "true");
    await expect(member(bo.page, ana.handle)).toHaveAttribute("data-online", "true");

    await send(ana.page, "hello from node A");
    await expect(row(ana.page, "hello from node A")).toHaveAttribute("data-state", "sent");
    await expect(row(bo.page, "hello from node A")).toBeVisible();
    await send(bo.page, "and back from node B");
    await expect(row(ana.page, "and back from node B")).toBeVisible();
    await expect(row(bo.page, "and back from node B")).toHaveAttribute("data-state", "sent");

    // Typing crosses nodes too, and expires by itself.
    await bo.page.getByLabel("Message", { exact: true }).pressSequentially("hmm", { delay: 20 });
    await expect(ana.page.getByTestId("typing")).toHaveText("Bo is typing…");
    await expect(ana.page.getByTestId("typing")).toHaveText("", { timeout: 15_000 });

    expect(await bodies(ana.page)).toEqual(["hello from node A", "and back from node B"]);
    expect(await bodies(bo.page)).toEqual(await bodies(ana.page));
    // Bo closes his page: he goes offline for Ana on the other node.
    await bo.page.close();
    await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "false", { timeout: 15_000 });
    expect(ana.problems).toEqual([]);
    expect(bo.problems).toEqual([]);
  } finally {
    await a.down();
    await b.down();
  }
});

test("a typing indicator from a node that dies ends by itself on the other nodes", async ({ browser }) => {
  const [a, b] = await twoNodes();
  try {
    const ana = await person(browser, a.url, "ana", "Ana");
    const bo = await person(browser, b.url, "bo", "Bo");
    const room = await createRoom(ana.page, uniqueHandle("typing"));
    await openRoom(bo.page, room);
    await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "true");

    await bo.page.getByLabel("Message", { exact: true }).pressSequentially("hmm", { delay: 20 });
    await expect(ana.page.getByTestId("typing")).toHaveText("Bo is typing…");
    // Bo's node dies mid-word: nothing will ever tell Ana's node that he stopped.
    await b.kill();
    const killed = Date.now();
    // The indicator ends within its time to live (5 s by default), on Ana's screen, long
    // before the cluster notices that Bo's node is gone (8 s and more).
    await expect(ana.page.getByTestId("typing")).toHaveText("", { timeout: 7_000 });
    expect(Date.now() - killed).toBeLessThan(7_000);
    await expect(member(ana.page, bo.handle)).toHaveAttribute("data-online", "false", { timeout: 20_000 });
    expect(ana.problems).toEqual([]);
  } finally {
    await a.down();
    await b.kill();
  }
});
