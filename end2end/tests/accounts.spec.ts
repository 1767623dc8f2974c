import { expect, test, type Page } from "@playwright/test";

// Accounts in a real browser: sign up (which signs in), log out, log in, and the clear
// messages a person gets for each mistake. One run also has JavaScript turned off, to show
// the forms work before (or without) hydration.

const PASSWORD = "correct horse battery";

function uniqueHandle(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

async function hydrated(page: Page) {
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
}

async function signUp(page: Page, handle: string, password = PASSWORD, displayName = "Ana Lima") {
  await page.goto("/signup");
  await page.getByLabel("Handle").fill(handle);
  await page.getByLabel("Display name").fill(displayName);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
}

test("signing up signs you in, and logging out and in again works", async ({ page }) => {
  const handle = uniqueHandle("ana");
  await signUp(page, handle);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("me")).toHaveText("Ana Lima");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(page.getByTestId("me")).toHaveCount(0);

  await page.getByRole("link", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel("Handle").fill(handle.toUpperCase());
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("me")).toHaveText("Ana Lima");

  // The session survives a reload (it is a server-side session behind a cookie).
  await page.reload();
  await expect(page.getByTestId("me")).toHaveText("Ana Lima");
});

test("a wrong password gets a clear message and no session", async ({ page }) => {
  const handle = uniqueHandle("bo");
  await signUp(page, handle);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();

  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Handle").fill(handle);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong handle or password.");
  await page.goto("/");
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
});

test("sign-up mistakes are explained on the form", async ({ browser }) => {
  const taken = uniqueHandle("cy");
  const first = await browser.newContext();
  await signUp(await first.newPage(), taken);
  await first.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  const cases: Array<[string, string, string, RegExp]> = [
    [taken, "Cy", PASSWORD, /already taken/],
    [uniqueHandle("d"), "Dee", "short", /at least 8 characters/],
    ["x", "X", PASSWORD, /2 to 32 characters/],
    [uniqueHandle("e"), "E".repeat(65), PASSWORD, /at most 64 characters/],
    [uniqueHandle("f"), "Fay", "p".repeat(129), /at most 128 characters/],
  ];
  for (const [handle, name, password, message] of cases) {
    await signUp(page, handle, password, name);
    await expect(page.getByRole("alert")).toHaveText(message);
    await expect(page).toHaveURL(/\/signup/);
  }
  await context.close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the forms still sign up, report errors and log out", async ({ page }) => {
    await signUp(page, uniqueHandle("g"), "short");
    await expect(page.getByRole("alert")).toHaveText("A password has at least 8 characters.");

    await signUp(page, uniqueHandle("g"));
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("me")).toHaveText("Ana Lima");
    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
  });
});
