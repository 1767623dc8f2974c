import { expect, test, type Page } from "@playwright/test";

import { openRoom, person, ready, row, send } from "./support/chat";

// A person in 600 rooms who has visited every one of them, then loses the network with
// 150 messages written offline: back online, the page resubscribes only the few rooms it
// keeps warm (it unsubscribed the rest as they left the screen), replays the outbox in
// order, and the server never refuses it for going too fast (no `rate_limited`, no close
// 4102, one new socket), however many rooms and queued messages there are.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";
const ROOMS = 600;
const QUEUED = 150;

/** Creates `n` rooms for the page's person over sockets of their own (in the page, so the
 * session cookie goes with them), spread over several sockets and paced under the
 * per-connection rate limit. Returns the rooms' addresses. */
async function createRooms(page: Page, n: number): Promise<string[]> {
  return page.evaluate(async (n) => {
    const sockets = 12;
    const perSocket = Math.ceil(n / sockets);
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const tag = Date.now().toString(36);
    const one = (s: number) =>
      new Promise<string[]>((resolve, reject) => {
        const ws = new WebSocket(url, "confab.v1");
        const rooms: string[] = [];
        let req = 0;
        let done = false;
        ws.onmessage = (m) => {
          const f = JSON.parse(String(m.data));
          if (f.type === "welcome") {
            const next = () => {
              if (req >= perSocket || s * perSocket + req >= n) return;
              req += 1;
              ws.send(JSON.stringify({ type: "create_room", req, name: `many-${tag}-${s}-${req}` }));
              setTimeout(next, 60);
            };
            next();
          } else if (f.type === "ack" && f.room) {
            rooms.push(`/r/${f.room}`);
            if (rooms.length === Math.min(perSocket, n - s * perSocket)) {
              done = true;
              ws.close(1000);
              resolve(rooms);
            }
          } else if (f.type === "error") {
            reject(new Error(JSON.stringify(f)));
          }
        };
        // A close before the last room (a refused handshake, say) fails at once, not at
        // the test's timeout.
        ws.onclose = (e) => {
          if (!done) reject(new Error(`socket ${s} closed ${e.code} "${e.reason}" after ${rooms.length} rooms`));
        };
      });
    const all = await Promise.all(Array.from({ length: sockets }, (_, s) => one(s)));
    return all.flat();
  }, n);
}

test("600 rooms visited, then a reconnect with 150 messages queued: paced, never refused", async ({ browser }) => {
  test.setTimeout(420_000);
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  try {
    const rooms = await createRooms(ana.page, ROOMS);
    expect(rooms).toHaveLength(ROOMS);
    const last = rooms[rooms.length - 1];
    await openRoom(bo.page, last);

    // Everything the server says to Ana's page from here on, and what the page asks.
    const received: string[] = [];
    const sent: string[] = [];
    let sockets = 0;
    ana.page.on("websocket", (ws) => {
      sockets += 1;
      ws.on("framereceived", (f) => received.push(String(f.payload)));
      ws.on("framesent", (f) => sent.push(String(f.payload)));
    });
    await ana.page.goto("/");
    await ready(ana.page);
    expect(sockets).toBe(1);
    await expect(ana.page.locator('a[data-testid="room-link"]')).toHaveCount(ROOMS);

    // Visit every room in the page (no reload), as fast as a person clicking through.
    for (const path of rooms) {
      await ana.page.locator(`a[data-testid="room-link"][href="${path}"]`).click();
      await expect(ana.page.locator(`[data-testid="room"][data-room="${path.slice(3)}"]`)).toBeVisible();
    }
    const frames = (type: string) => sent.filter((s) => JSON.parse(s).type === type);
    // What the page holds subscribed: each room's last subscribe or unsubscribe. Rooms
    // that fell out of the few kept warm were unsubscribed (a room left before its
    // paced subscribe went out may never have been subscribed at all).
    const held = () => {
      const last = new Map<string, string>();
      for (const s of sent) {
        const f = JSON.parse(s);
        if (f.type === "subscribe" || f.type === "unsubscribe") last.set(f.room, f.type);
      }
      return [...last.values()].filter((t) => t === "subscribe").length;
    };
    await expect.poll(held).toBeLessThanOrEqual(9);
    expect(frames("subscribe").length).toBeGreaterThan(ROOMS / 2);

    // Offline, then messages written; back online they all go, with the resubscribes.
    await ana.context.setOffline(true);
    await expect(ana.page.getByTestId("connection")).toHaveAttribute("data-state", "offline");
    const subscribesBefore = frames("subscribe").length;
    for (let i = 0; i < QUEUED; i++) await send(ana.page, `queued ${i}`);
    await ana.context.setOffline(false);
    await expect(ana.page.getByTestId("connection")).toHaveAttribute("data-state", "connected", { timeout: 15_000 });
    await expect(row(bo.page, `queued ${QUEUED - 1}`)).toBeVisible({ timeout: 60_000 });
    await expect(ana.page.locator('[data-testid="message"][data-state="pending"]')).toHaveCount(0, { timeout: 60_000 });

    // Only the warm rooms were resubscribed; nothing was refused for going too fast, and
    // the page needed exactly one new socket (a 4102 close would have made another).
    expect(frames("subscribe").length - subscribesBefore).toBeLessThanOrEqual(9);
    expect(received.filter((r) => r.includes('"rate_limited"'))).toEqual([]);
    expect(sockets).toBe(2);
    await expect(ana.page.getByTestId("connection")).toHaveAttribute("data-state", "connected");
    const bodies = await bo.page.getByTestId("messages").getByTestId("body").allTextContents();
    expect(bodies).toEqual(Array.from({ length: QUEUED }, (_, i) => `queued ${i}`));
    expect(ana.problems.concat(bo.problems)).toEqual([]);
  } finally {
    await ana.context.close();
    await bo.context.close();
  }
});
