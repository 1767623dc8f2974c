import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";

import { person } from "./support/chat";
import { OwnServer } from "./support/server";
import { SIZES, expectAllOnScreen } from "./support/viewport";

// The site admin's page in the real UI, on a server of the test's own (so that the
// command line can make a site admin on its database): someone who is not a site admin
// is refused the page; one made with `confab user admin` reaches it from Settings, finds
// an account and deactivates it, and that person is signed out. At phone and desktop
// widths.

for (const size of ["phone", "desktop"] as const) {
  test(`a site admin deactivates an account from the admin page (${size})`, async ({ browser }) => {
    const server = await OwnServer.start();
    const viewport = SIZES[size];
    try {
      const ana = await person(browser, server.url, "ana", "Ana", { viewport });
      const bo = await person(browser, server.url, "bo", "Bo", { viewport });

      await ana.page.goto("/admin");
      await expect(ana.page.getByTestId("admin-refused")).toHaveText("This page is for site admins.");

      execFileSync(process.env.CONFAB_SERVER_BIN!, ["user", "admin", ana.handle], {
        env: { ...process.env, CONFAB_DATA_DIR: server.dataDir, CONFAB_LOG: "warn" },
      });
      await ana.page.goto("/settings");
      await expect(ana.page.locator("#app")).toHaveAttribute("data-hydrated", "true");
      await ana.page.getByTestId("admin-link").click();
      await expect(ana.page).toHaveURL(/\/admin$/);
      await expect(ana.page.locator("#app")).toHaveAttribute("data-hydrated", "true");
      await ana.page.getByTestId("admin-search").fill(bo.handle);
      const row = ana.page.locator(`[data-testid="admin-account"][data-handle="${bo.handle}"]`);
      await expect(ana.page.getByTestId("admin-account")).toHaveCount(1);
      await row.getByTestId("admin-deactivate").click();
      await expectAllOnScreen(ana.page, `the deactivation question (${size})`);
      await row.getByTestId("admin-deactivate-confirm").click();
      await expect(ana.page.getByTestId("admin-notice")).toContainText(`@${bo.handle}) was deactivated.`);
      await expect(row).toHaveCount(0);

      // Bo's open page loses its connection, and Bo is signed out.
      await bo.page.goto("/");
      await expect(bo.page.getByTestId("connection")).toHaveCount(0);
      await expect(bo.page.getByRole("link", { name: "I already have an account" })).toBeVisible();
      expect(ana.problems).toEqual([]);
      expect(bo.problems).toEqual([]);
    } finally {
      await server.down();
    }
  });
}
