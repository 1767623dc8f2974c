import { expect, test } from "@playwright/test";
import { createRoom, member, openRoom, person, uniqueHandle } from "./support/chat";

// Statuses: one person picks "do not disturb" with a line; another sees it in the member
// list and on hover of the name; going back to active clears it.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("a status set in one browser shows in another", async ({ browser }) => {
  const ana = await person(browser, BASE, "sta", "Ana Status");
  const bo = await person(browser, BASE, "sta", "Bo Status");
  try {
    const room = await createRoom(ana.page, uniqueHandle("status"));
    await openRoom(bo.page, room);
    await expect(member(bo.page, ana.handle)).toHaveAttribute("data-status", "active");

    await ana.page.getByTestId("open-status").click();
    const dialog = ana.page.getByRole("dialog", { name: "Set your status" });
    await dialog.getByLabel("Do not disturb").check();
    await dialog.getByLabel("Status line (optional)").fill("deep work until 3");
    await dialog.getByRole("button", { name: "Save status" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(ana.page.getByTestId("open-status")).toContainText("Do not disturb");

    const seen = member(bo.page, ana.handle);
    await expect(seen).toHaveAttribute("data-status", "dnd");
    await expect(seen.getByTestId("member-status")).toHaveText("deep work until 3");
    await expect(seen).toHaveAttribute("title", `Ana Status (@${ana.handle}): Do not disturb, “deep work until 3”`);

    // Back to active with no line: automatic again, and the line is gone.
    await ana.page.getByTestId("open-status").click();
    await dialog.getByLabel("Active").check();
    await dialog.getByLabel("Status line (optional)").fill("");
    await dialog.getByRole("button", { name: "Save status" }).click();
    await expect(seen).toHaveAttribute("data-status", "active");
    await expect(seen.getByTestId("member-status")).toHaveCount(0);
    expect(ana.problems.concat(bo.problems)).toEqual([]);
  } finally {
    await ana.context.close();
    await bo.context.close();
  }
});
