import { test } from "@playwright/test";
test("debug", async ({ page }) => {
  page.on("console", (m) => console.log("console:", m.type(), m.text().slice(0, 300)));
  page.on("pageerror", (e) => console.log("pageerror:", e.message));
  const handle = `dbg${Date.now().toString(36)}`;
  const r = await page.request.post("/api/auth/signup", { form: { handle, display_name: "D", password: "correct horse battery" }, maxRedirects: 0 });
  console.log("signup", r.status());
  await page.goto("/");
  await page.waitForTimeout(3000);
  console.log("state", await page.getByTestId("connection").count(), await page.getByTestId("connection").first().getAttribute("data-state"));
  console.log("chats", await page.getByTestId("chat").count());
  const b = page.getByRole("button", { name: "Create a room" });
  console.log("buttons", await b.count(), await b.first().isDisabled(), await b.last().isDisabled());
  console.log("app children", await page.evaluate(() => document.querySelector("#app")?.innerHTML.slice(0, 600)));
});
