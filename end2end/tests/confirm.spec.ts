import { expect, test } from "@playwright/test";
import { createRoom, openRoom, person, row, send, uniqueHandle } from "./support/chat";

// Deleting asks first: an alert dialog with Cancel focused, focus kept inside it, Esc or
// Cancel keeps the message and gives focus back to the Delete button; only "Delete"
// deletes, for everyone.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

test("delete asks for confirmation, traps focus and gives it back", async ({ browser }) => {
  const ana = await person(browser, BASE, "del", "Ana");
  const bo = await person(browser, BASE, "del", "Bo");
  try {
    const room = await createRoom(ana.page, uniqueHandle("confirm"));
    await openRoom(bo.page, room);
    await send(ana.page, "think twice");
    const line = row(ana.page, "think twice");
    await expect(line).toHaveAttribute("data-state", "sent");
    await expect(row(bo.page, "think twice")).toBeVisible();

    const deleteButton = line.getByRole("button", { name: "Delete message" });
    await line.hover();
    await deleteButton.click();
    const dialog = ana.page.getByRole("alertdialog", { name: "Delete this message?" });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText("cannot be undone");
    // Cancel has the focus; Tab goes round the dialog's controls and never leaves it.
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
    await ana.page.keyboard.press("Tab");
    await expect(dialog.getByRole("button", { name: "Delete" })).toBeFocused();
    await ana.page.keyboard.press("Tab");
    await expect(dialog.getByRole("button", { name: "Close" })).toBeFocused();
    await ana.page.keyboard.press("Shift+Tab");
    await expect(dialog.getByRole("button", { name: "Delete" })).toBeFocused();

    // Esc keeps the message, and focus goes back to where it was.
    await ana.page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);
    await expect(deleteButton).toBeFocused();
    await expect(row(ana.page, "think twice")).toBeVisible();

    // Cancel keeps it too.
    await deleteButton.click();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(row(ana.page, "think twice")).toHaveAttribute("data-state", "sent");

    // Delete deletes, on both sides.
    await deleteButton.click();
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(ana.page.getByText("This message was deleted.")).toBeVisible();
    await expect(bo.page.getByText("This message was deleted.")).toBeVisible();
    await expect(bo.page.getByTestId("messages").getByText("think twice")).toHaveCount(0);
    expect(ana.problems.concat(bo.problems)).toEqual([]);
  } finally {
    await ana.context.close();
    await bo.context.close();
  }
});
