// The screen sizes the layout is checked at, and the check that nothing a person can use
// lies outside the viewport.

import { expect, type Page } from "@playwright/test";

export const SIZES = {
  phone: { width: 390, height: 844 },
  tablet: { width: 768, height: 1024 },
  desktop: { width: 1280, height: 800 },
} as const;

export type SizeName = keyof typeof SIZES;

/** Every visible control (button, link, input, textarea, select) that lies partly outside
 * the viewport horizontally, and a line if the document scrolls sideways. */
export async function offScreen(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const width = doc.clientWidth;
    const found: string[] = [];
    for (const el of Array.from(document.querySelectorAll("button, a[href], input, textarea, select"))) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if ((r.width === 0 && r.height === 0) || style.visibility === "hidden") continue;
      if (r.left < -0.5 || r.right > width + 0.5) {
        const name = (el.getAttribute("aria-label") ?? el.textContent ?? "").trim().slice(0, 40);
        found.push(`${el.tagName.toLowerCase()} "${name}" spans x ${Math.round(r.left)}..${Math.round(r.right)} of ${width}`);
      }
    }
    if (doc.scrollWidth > doc.clientWidth) found.push(`the page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
    return found;
  });
}

/** Fails, naming them, if any control is off screen. */
export async function expectAllOnScreen(page: Page, where: string) {
  expect(await offScreen(page), `controls off screen on ${where}`).toEqual([]);
}

/** Where screenshots go when asked for (`CONFAB_SCREENSHOTS_DIR`), else nowhere. */
export async function screenshot(page: Page, name: string) {
  const dir = process.env.CONFAB_SCREENSHOTS_DIR;
  if (!dir) return;
  await page.screenshot({ path: `${dir}/${name}.png` });
}
