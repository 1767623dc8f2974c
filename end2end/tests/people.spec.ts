import { expect, test } from "@playwright/test";

import { createRoom, memberRow, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";
import { inputFile, png } from "./support/images";
import { SIZES, expectAllOnScreen } from "./support/viewport";

// People in the real UI: a bio and time zone set on the settings page (the browser's own
// zone offered), avatars beside messages (initials on a colour, once per run of one
// person's messages), and the profile card another member opens from a name; an avatar
// picture uploaded on the settings page, seen beside messages in another browser and on
// the card opened from the member list, then removed. At phone and desktop widths.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

for (const size of ["phone", "desktop"] as const) {
  test(`a profile set in settings shows on the card another member opens, beside avatars (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport, timezoneId: "America/Sao_Paulo" });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    try {
      // Ana's profile: a new name, a bio, and this browser's zone offered and taken.
      await ana.page.goto("/settings");
      await expect(ana.page.locator("#app")).toHaveAttribute("data-hydrated", "true");
      await ana.page.getByTestId("display-name").fill("Ana Lima");
      await ana.page.getByTestId("display-name").press("Enter");
      await expect(ana.page.getByTestId("display-name")).toHaveValue("Ana Lima");
      await ana.page.getByTestId("bio").fill("Designer.\nAsk me about fonts.");
      await ana.page.getByTestId("use-browser-zone").click();
      await expect(ana.page.getByTestId("time-zone")).toHaveValue("America/Sao_Paulo");
      await ana.page.getByRole("button", { name: "Save profile" }).click();
      await expect(ana.page.getByTestId("bio")).toHaveValue("Designer.\nAsk me about fonts.");
      await expect(ana.page.getByTestId("time-zone")).toHaveValue("America/Sao_Paulo");
      // A zone that is no zone is refused, and the saved one stays.
      await ana.page.getByTestId("time-zone").fill("../etc/passwd");
      await ana.page.getByRole("button", { name: "Save profile" }).click();
      await expect(ana.page.getByText("A time zone is a name like Europe/Lisbon or UTC.")).toBeVisible();

      await ana.page.goto("/");
      await ready(ana.page);
      const path = await createRoom(ana.page, uniqueHandle("people"));
      await openRoom(bo.page, path);
      await send(ana.page, "first thought");
      await send(ana.page, "second thought");
      await send(bo.page, "a reply");

      // Avatars: Ana's initials on her first message only; Bo's on his.
      const first = row(bo.page, "first thought");
      const second = row(bo.page, "second thought");
      await expect(first.getByTestId("avatar")).toHaveText("AL");
      await expect(second).toHaveClass(/message--grouped/);
      await expect(second.getByTestId("avatar")).toHaveCount(0);
      await expect(row(bo.page, "a reply").getByTestId("avatar")).toHaveText("B");

      // Bo opens Ana's card from her name.
      await first.getByTestId("person-name").click();
      const card = bo.page.getByRole("dialog", { name: "Ana Lima" });
      await expect(card.getByTestId("profile-card")).toContainText("@" + ana.handle);
      await expect(card.getByTestId("profile-bio")).toHaveText("Designer.\nAsk me about fonts.");
      await expect(card.getByTestId("profile-time")).toHaveText(/^Local time \d{2}:\d{2} \(America\/Sao_Paulo\)$/);
      await expectAllOnScreen(bo.page, `the profile card (${size})`);
      await card.getByRole("button", { name: "Close" }).click();

      // A card without a bio or zone says nothing of them.
      await row(ana.page, "a reply").getByTestId("person-name").click();
      const bos = ana.page.getByRole("dialog", { name: "Bo" });
      await expect(bos.getByTestId("profile-card")).toContainText("@" + bo.handle);
      await expect(bos.getByTestId("profile-bio")).toHaveCount(0);
      await expect(bos.getByTestId("profile-time")).toHaveCount(0);
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
    } finally {
      await ana.context.close();
      await bo.context.close();
    }
  });
}

/** The natural size of the picture an `<img>` shows, once loaded. */
async function pictureSize(img: import("@playwright/test").Locator) {
  await expect(img).toHaveJSProperty("complete", true);
  return img.evaluate((el) => [(el as HTMLImageElement).naturalWidth, (el as HTMLImageElement).naturalHeight]);
}

for (const size of ["phone", "desktop"] as const) {
  test(`an avatar picture set in settings shows beside messages in another browser (${size})`, async ({ browser }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    try {
      // Both are in the room, watching, before the picture exists.
      const path = await createRoom(ana.page, uniqueHandle("faces"));
      await openRoom(bo.page, path);
      await send(ana.page, "plain face");
      await expect(row(bo.page, "plain face").getByTestId("avatar")).toHaveText("A");
      await send(bo.page, "hello there");

      // Ana sets a wide picture in another tab; the server keeps its middle square.
      const settings = await ana.context.newPage();
      await settings.goto("/settings");
      await expect(settings.locator("#app")).toHaveAttribute("data-hydrated", "true");
      const mine = settings.getByTestId("avatar-setting").getByTestId("avatar");
      await expect(mine).toHaveText("A");
      const wide = await png(settings, "me.png", 600, 300, "#3a5bd9");
      await settings.getByTestId("avatar-input").setInputFiles(inputFile(wide));
      await expect(mine).toHaveAttribute("src", /^\/avatars\/[0-9a-f-]{36}\?v=\d+$/);
      expect(await pictureSize(mine)).toEqual([256, 256]);

      // Her next message carries it to Bo's browser, which never reloaded.
      await send(ana.page, "new face");
      const face = row(bo.page, "new face").getByTestId("avatar");
      await expect(face).toHaveAttribute("src", /^\/avatars\//);
      expect(await pictureSize(face)).toEqual([256, 256]);
      await expect(row(bo.page, "hello there").getByTestId("avatar")).toHaveText("B");
      // Her earlier message follows her new look too.
      await expect(row(bo.page, "plain face").getByTestId("avatar")).toHaveAttribute("src", /^\/avatars\//);

      // Bo opens her card from the member list: the picture, large.
      const entry = await memberRow(bo.page, ana.handle);
      await entry.getByTestId("person-name").click();
      const card = bo.page.getByRole("dialog", { name: "Ana" });
      await expect(card.getByTestId("avatar")).toHaveAttribute("src", /^\/avatars\//);
      await expectAllOnScreen(bo.page, `a card with a picture (${size})`);
      await card.getByRole("button", { name: "Close" }).click();

      // Not an image: refused in words, and the picture stays.
      await settings.getByTestId("avatar-input").setInputFiles({
        name: "notes.png",
        mimeType: "image/png",
        buffer: Buffer.from("just some text"),
      });
      await expect(settings.getByRole("alert")).toContainText("The picture was refused: an avatar must be a PNG, JPEG, GIF or WebP image.");
      await expect(mine).toHaveAttribute("src", /^\/avatars\//);

      // Removed: the initials again, and after a reload Bo's history shows them too.
      await settings.getByRole("button", { name: "Remove picture" }).click();
      await expect(mine).toHaveText("A");
      await send(ana.page, "old face");
      await bo.page.reload();
      await ready(bo.page);
      await expect(row(bo.page, "new face").getByTestId("avatar")).toHaveText("A");
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
    } finally {
      await ana.context.close();
      await bo.context.close();
    }
  });
}
