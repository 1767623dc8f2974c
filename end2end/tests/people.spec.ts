import { expect, test } from "@playwright/test";

import { createRoom, openRoom, person, ready, row, send, uniqueHandle } from "./support/chat";
import { SIZES, expectAllOnScreen } from "./support/viewport";

// People in the real UI: a bio and time zone set on the settings page (the browser's own
// zone offered), avatars beside messages (initials on a colour, once per run of one
// person's messages), and the profile card another member opens from a name. At phone
// and desktop widths.

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
