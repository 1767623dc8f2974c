import { expect, test } from "@playwright/test";

import { createRoom, openRoom, person, row, send, uniqueHandle } from "./support/chat";

// Message formatting as people see it: messages sent through the real composer, rendered
// by the other person's browser (live) and again after a reload (server-rendered, then
// hydrated). Formatting builds elements; what looks like HTML stays text.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("bold, italics, code, code blocks and links render as elements, HTML stays text", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("fmt"));
  await openRoom(bo.page, room);

  await send(ana.page, "**bold** and *it* and _also_ with `a **b**` here");
  await send(ana.page, "see [the docs](https://example.com/docs) or https://example.org/x, not [bad](javascript:alert(1))");
  await send(ana.page, "```\nfn main() {\n    println!(\"<b>hi</b>\");\n}\n```");
  const hostile = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> <b>not bold</b>`;
  await send(ana.page, hostile);

  for (const page of [bo.page, ana.page]) {
    await checkRendering(page, hostile);
  }
  // The same after a reload, where the first paint comes from the server.
  await bo.page.reload();
  await expect(bo.page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await checkRendering(bo.page, hostile);

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

async function checkRendering(page: import("@playwright/test").Page, hostile: string) {
  const messages = page.getByTestId("messages");
  const first = messages.getByTestId("message").filter({ hasText: "and also with" }).getByTestId("body");
  await expect(first.locator("strong").first()).toHaveText("bold");
  await expect(first.locator("em")).toHaveText(["it", "also"]);
  // A code span keeps its markers and formats nothing inside.
  await expect(first.locator("code")).toHaveText("a **b**");
  await expect(first.locator("code strong")).toHaveCount(0);

  const links = messages.getByTestId("message").filter({ hasText: "see the docs" }).getByTestId("body");
  await expect(links.locator("a")).toHaveCount(2);
  await expect(links.locator("a").nth(0)).toHaveText("the docs");
  await expect(links.locator("a").nth(0)).toHaveAttribute("href", "https://example.com/docs");
  await expect(links.locator("a").nth(1)).toHaveAttribute("href", "https://example.org/x");
  await expect(links.locator("a").nth(0)).toHaveAttribute("rel", /noopener/);
  // The javascript: link is text, with its brackets.
  await expect(links).toContainText("not [bad](javascript:alert(1))");
  await expect(links.locator('a[href^="javascript"]')).toHaveCount(0);

  const block = messages.getByTestId("message").filter({ hasText: "fn main()" }).getByTestId("body");
  await expect(block.locator("pre code")).toHaveText('fn main() {\n    println!("<b>hi</b>");\n}');
  await expect(block.locator("pre b")).toHaveCount(0);

  const html = row(page, hostile).getByTestId("body");
  await expect(html).toHaveText(hostile);
  await expect(html.locator("img, script, b")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
}
