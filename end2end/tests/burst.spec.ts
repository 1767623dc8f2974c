import { writeFileSync } from "node:fs";

import { expect, test, type Page } from "@playwright/test";

import { createRoom, openRoom, person, uniqueHandle } from "./support/chat";

// A burst of 2,000 messages into the room Ana has open while she types. What must hold:
// every message reaches her page in order (the newest is shown, the seqs on screen only
// grow), the text she typed meanwhile is exactly what she typed, and her page says
// nothing was lost. What is measured and reported, not asserted (a benchmark, see
// docs/benchmarks.md "The browser under a burst"): the longest frame in her page, the
// slowest keystroke (Event Timing), and how long the burst took to be on screen.
// `scripts/bench-browser-burst.sh` runs this spec alone against a release server and
// prints the figures; the suite also writes them to the test's output folder (burst.json).

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";
const MESSAGES = 2_000;
/** Sockets the burst is sent over. Each sends a subscribe and then its share at once:
 * 1 + 20 requests, well inside the per-connection burst allowance (50), so the server
 * never answers `rate_limited`. */
const SOCKETS = 100;

/** Sends `MESSAGES` messages into `roomId` from the page's person, over `SOCKETS`
 * sockets at once. Returns the highest seq acked. Any refusal, any close before the last
 * ack, or no progress for 30 s fails it with what each socket had got: never a hang. */
async function burst(page: Page, roomId: string): Promise<number> {
  return page.evaluate(
    async ({ roomId, total, sockets }) => {
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
      const per = total / sockets;
      const acked: number[] = Array(sockets).fill(0);
      let lastProgress = Date.now();
      const one = (s: number) =>
        new Promise<number>((resolve, reject) => {
          const ws = new WebSocket(url, "confab.v1");
          let top = 0;
          let done = false;
          ws.onmessage = (m) => {
            const data = String(m.data);
            // Each socket also receives the whole burst back: skip it cheaply.
            if (data.startsWith('{"type":"event"')) return;
            const f = JSON.parse(data);
            if (f.type === "welcome") {
              ws.send(JSON.stringify({ type: "subscribe", req: 1, room: roomId }));
            } else if (f.type === "ack" && f.req === 1) {
              for (let i = 0; i < per; i++) {
                ws.send(
                  JSON.stringify({
                    type: "send",
                    req: 2 + i,
                    room: roomId,
                    client_msg_id: `b${s}-${i}`,
                    body: `burst ${s}-${i}`,
                  }),
                );
              }
            } else if (f.type === "ack" && f.seq) {
              top = Math.max(top, f.seq);
              acked[s] += 1;
              lastProgress = Date.now();
              if (acked[s] === per) {
                done = true;
                ws.close(1000);
                resolve(top);
              }
            } else if (f.type === "error") {
              reject(new Error(`socket ${s}: ${data}`));
            }
          };
          ws.onclose = (e) => {
            if (!done) reject(new Error(`socket ${s} closed ${e.code} "${e.reason}" after ${acked[s]} acks`));
          };
        });
      let check: ReturnType<typeof setInterval> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        check = setInterval(() => {
          if (Date.now() - lastProgress > 30_000) {
            clearInterval(check);
            reject(new Error(`no ack for 30 s; acks per socket: ${acked.join(",")}`));
          }
        }, 1_000);
      });
      try {
        const tops = await Promise.race([Promise.all(Array.from({ length: sockets }, (_, s) => one(s))), stalled]);
        return Math.max(...tops);
      } finally {
        clearInterval(check);
      }
    },
    { roomId, total: MESSAGES, sockets: SOCKETS },
  );
}

test("a burst of 2,000 messages while typing: all shown in order, typing intact, frames measured", async ({
  browser,
}, testInfo) => {
  test.setTimeout(180_000);
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  try {
    const room = await createRoom(ana.page, uniqueHandle("burst"));
    await openRoom(bo.page, room);
    const roomId = room.slice(3);

    // Frame gaps (requestAnimationFrame), long animation frames and slow events, from now.
    await ana.page.evaluate(() => {
      const w = window as unknown as { burst: { gaps: number[]; loaf: number[]; events: number[] } };
      w.burst = { gaps: [], loaf: [], events: [] };
      let last = performance.now();
      const tick = (t: number) => {
        w.burst.gaps.push(t - last);
        last = t;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      new PerformanceObserver((l) => l.getEntries().forEach((e) => w.burst.loaf.push(e.duration))).observe({
        type: "long-animation-frame",
      });
      new PerformanceObserver((l) => l.getEntries().forEach((e) => w.burst.events.push(e.duration))).observe({
        type: "event",
        durationThreshold: 16,
      } as PerformanceObserverInit);
    });

    const composer = ana.page.getByLabel("Message", { exact: true });
    await composer.click();
    const typed = "still typing while two thousand messages arrive";
    // The burst is sent from a page of Bo's that shows no chat, so that only Ana's page
    // renders it.
    await bo.page.goto("/no-such-page");
    const started = Date.now();
    // Sent, acked and shown while Ana types: the times are the burst's own, not the
    // typing's.
    let ackedMs = 0;
    let shownMs = 0;
    const shown = burst(bo.page, roomId).then(async (top) => {
      ackedMs = Date.now() - started;
      await expect(ana.page.locator(`[data-testid="message"][data-seq="${top}"]`)).toBeVisible({ timeout: 60_000 });
      shownMs = Date.now() - started;
      return top;
    });
    await ana.page.keyboard.type(typed, { delay: 25 });
    const top = await shown;
    expect(top).toBeGreaterThanOrEqual(MESSAGES);
    await expect(composer).toHaveValue(typed);

    // In order: the seqs on screen only grow, and end at the newest.
    const seqs = (await ana.page.getByTestId("messages").locator('[data-testid="message"][data-seq]').evaluateAll(
      (els) => els.map((e) => Number(e.getAttribute("data-seq"))),
    )) as number[];
    expect(seqs.length).toBeGreaterThan(0);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
    expect(seqs[seqs.length - 1]).toBe(top);
    await expect(ana.page.getByTestId("connection")).toHaveAttribute("data-state", "connected");

    const m = await ana.page.evaluate(() => (window as unknown as { burst: { gaps: number[]; loaf: number[]; events: number[] } }).burst);
    const sorted = [...m.gaps].sort((a, b) => a - b);
    const figures = {
      messages: MESSAGES,
      acked_ms: ackedMs,
      shown_ms: shownMs,
      frames: m.gaps.length,
      longest_frame_ms: Math.round(sorted[sorted.length - 1] ?? 0),
      p95_frame_ms: Math.round(sorted[Math.floor(sorted.length * 0.95)] ?? 0),
      long_animation_frames: m.loaf.length,
      longest_animation_frame_ms: Math.round(Math.max(0, ...m.loaf)),
      slowest_event_ms: Math.round(Math.max(0, ...m.events)),
    };
    console.log(`burst figures: ${JSON.stringify(figures)}`);
    writeFileSync(testInfo.outputPath("burst.json"), JSON.stringify(figures, null, 2));
    await testInfo.attach("burst.json", { body: JSON.stringify(figures, null, 2), contentType: "application/json" });
    expect(ana.problems.concat(bo.problems)).toEqual([]);
  } finally {
    await ana.context.close();
    await bo.context.close();
  }
});
