// Files made in the page for uploads: a real PNG drawn by its canvas, and the shape
// Playwright's `setInputFiles` takes.

import type { Page } from "@playwright/test";

/** A file as the page builds it: bytes in base64. */
export interface PageFile {
  name: string;
  mime: string;
  base64: string;
}

/** A real PNG of `width` × `height`, drawn by the page's canvas. */
export async function png(page: Page, name: string, width: number, height: number, color: string): Promise<PageFile> {
  const base64 = await page.evaluate(
    ([w, h, c]) => {
      const canvas = document.createElement("canvas");
      canvas.width = w as number;
      canvas.height = h as number;
      const g = canvas.getContext("2d")!;
      g.fillStyle = c as string;
      g.fillRect(0, 0, w as number, h as number);
      g.fillStyle = "#fff";
      g.fillRect(4, 4, (w as number) / 3, (h as number) / 3);
      return canvas.toDataURL("image/png").split(",")[1];
    },
    [width, height, color],
  );
  return { name, mime: "image/png", base64 };
}

export function inputFile(f: PageFile) {
  return { name: f.name, mimeType: f.mime, buffer: Buffer.from(f.base64, "base64") };
}
