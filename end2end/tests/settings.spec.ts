import { expect, test, type Page } from "@playwright/test";
import { SIZES, offScreen } from "./support/viewport";

// The settings page as a person uses it: rename, make and revoke an API token, sign out
// another browser, change the password (refused without the current one), at phone and
// desktop widths with nothing off screen.

const PASSWORD = "correct horse battery";

function uniqueHandle(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

async function hydrated(page: Page) {
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
}

async function signUp(page: Page, handle: string) {
  await page.goto("/signup");
  await page.getByLabel("Handle").fill(handle);
  await page.getByLabel("Display name").fill("Ana");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByTestId("me")).toHaveText("Ana");
}

for (const size of ["phone", "desktop"] as const) {
  test(`settings at ${size} width: name, token, sessions and password`, async ({ page, browser }) => {
    await page.setViewportSize(SIZES[size]);
    const handle = uniqueHandle("set");
    await signUp(page, handle);
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto("/login");
    await otherPage.getByLabel("Handle").fill(handle);
    await otherPage.getByLabel("Password").fill(PASSWORD);
    await otherPage.getByRole("button", { name: "Log in" }).click();
    await expect(otherPage.getByTestId("me")).toHaveText("Ana");

    await page.getByTestId("settings-link").click();
    await expect(page).toHaveURL(/\/settings$/);
    await hydrated(page);
    expect(await offScreen(page)).toEqual([]);

    await page.getByTestId("display-name").fill("Ana Lima");
    // The rename is a request of its own: leaving the page before it is answered can
    // abort it, so wait for its answer.
    const renamed = page.waitForResponse((r) => r.url().endsWith("/account/name"));
    await page.getByRole("button", { name: "Save", exact: true }).click();
    expect((await renamed).status()).toBeLessThan(400);
    await expect(page.getByTestId("display-name")).toHaveValue("Ana Lima");
    await page.goto("/");
    await expect(page.getByTestId("me")).toHaveText("Ana Lima");
    await page.goto("/settings");
    await hydrated(page);

    await page.getByLabel("Name", { exact: true }).fill("ci-bot");
    await page.getByRole("button", { name: "Create token" }).click();
    await expect(page.getByTestId("new-token")).toContainText("cfb_");
    await expect(page.getByTestId("tokens")).toContainText("ci-bot");
    await page.getByTestId("tokens").getByRole("button", { name: "Revoke" }).click();
    await expect(page.getByTestId("tokens")).toContainText("revoked");

    const sessions = page.getByTestId("sessions");
    await expect(sessions.getByRole("listitem")).toHaveCount(2);
    await sessions.getByRole("button", { name: "Sign out" }).click();
    await expect(sessions.getByRole("listitem")).toHaveCount(1);
    await otherPage.reload();
    await expect(otherPage.getByRole("link", { name: "Log in" })).toBeVisible();

    await page.getByTestId("current").fill("not my password");
    await page.getByTestId("new_password").fill("a brand new secret");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page.getByRole("alert").first()).toContainText("not your current password");
    await page.getByTestId("current").fill(PASSWORD);
    await page.getByTestId("new_password").fill("a brand new secret");
    await page.getByRole("button", { name: "Change password" }).click();
    await expect(page).toHaveURL(/\/settings$/);
    // Still signed in here: the page shows the account, not "Sign in".
    await expect(page.getByTestId("display-name")).toHaveValue("Ana Lima");
    await expect(page.getByTestId("sessions").getByRole("listitem")).toHaveCount(1);
    expect(await offScreen(page)).toEqual([]);
    await other.close();
  });
}
