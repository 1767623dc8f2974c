import { expect, test, type Locator, type Page } from "@playwright/test";

import { expectAccessible } from "./support/a11y";
import { createRoom, openRoom, person, row, send, uniqueHandle } from "./support/chat";
import { inputFile, png, type PageFile } from "./support/images";
import { OwnServer } from "./support/server";
import { SIZES, expectAllOnScreen, screenshot, type SizeName } from "./support/viewport";

// Sharing files through the real UI: the paperclip, a drop on the room and a paste into
// the text box each upload at once (a chip with a progress bar), the message then carries
// the files, and another person sees an image as a thumbnail (that opens in a lightbox)
// and any other file as a card that downloads it. A message made offline keeps its files
// in the outbox; a thread's replies take files too; a file over the server's limit (its
// `welcome` says it) is refused on its chip without being sent.

const BASE = process.env.CONFAB_BASE_URL ?? "http://127.0.0.1:3000";

/** Drags `files` over `target` (checking that it lights up) and drops them there, as a
 * browser does: dragenter, dragover, drop, each with a DataTransfer holding the files. */
async function dropFiles(target: Locator, files: PageFile[]) {
  const fire = (type: string) =>
    target.evaluate(
      (el, [type, files]) => {
        const data = new DataTransfer();
        for (const f of files as PageFile[]) {
          const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
          data.items.add(new File([bytes], f.name, { type: f.mime }));
        }
        el.dispatchEvent(new DragEvent(type as string, { dataTransfer: data, bubbles: true, cancelable: true }));
      },
      [type, files] as const,
    );
  await fire("dragenter");
  await fire("dragover");
  await expect(target).toHaveAttribute("data-drop-over", "true");
  await fire("drop");
  await expect(target).toHaveAttribute("data-drop-over", "false");
}

/** Pastes `file` into `box` as the clipboard would hand it over. */
async function pasteFile(box: Locator, file: PageFile) {
  await box.evaluate((el, f) => {
    const data = new DataTransfer();
    const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], f.name, { type: f.mime }));
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, file);
}

function composer(page: Page) {
  return page.getByTestId("composer");
}

function chip(page: Page, name: string) {
  return composer(page).getByTestId("upload").filter({ has: page.getByTestId("upload-name").getByText(name, { exact: true }) });
}

/** The message (stored or pending) that carries a file named `name`. */
function messageWith(page: Page, name: string) {
  return page
    .getByTestId("messages")
    .getByTestId("message")
    .filter({ has: page.locator(`img[alt="${name}"], [data-testid="attachment-name"]:text-is("${name}")`) });
}

function thumbnail(page: Page, name: string) {
  return page.getByTestId("messages").locator(`img[data-testid="attachment-image"][alt="${name}"]`);
}

/** Waits until the image has loaded (its natural width is known). */
async function expectLoaded(img: Locator) {
  await img.scrollIntoViewIfNeeded();
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
}

for (const size of ["phone", "desktop"] as SizeName[]) {
  test(`images attached by the paperclip and by a drop reach another person as thumbnails (${size})`, async ({
    browser,
  }) => {
    const viewport = SIZES[size];
    const ana = await person(browser, BASE, "ana", "Ana", { viewport });
    const bo = await person(browser, BASE, "bo", "Bo", { viewport });
    const room = await createRoom(ana.page, uniqueHandle("pics"));
    await openRoom(bo.page, room);

    // The paperclip: the upload is held back a moment, so its progress bar shows.
    const wide = await png(ana.page, "wide.png", 640, 480, "#3a5bd9");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const isUpload = (url: URL) => url.pathname === "/files";
    await ana.page.route(isUpload, async (route) => {
      await held;
      await route.continue();
    });
    await expect(composer(ana.page).getByRole("button", { name: "Attach files" })).toBeEnabled();
    await composer(ana.page).getByTestId("attach-input").setInputFiles(inputFile(wide));
    await expect(chip(ana.page, "wide.png")).toHaveAttribute("data-state", "uploading");
    await expect(chip(ana.page, "wide.png").getByRole("progressbar", { name: "Uploading wide.png" })).toBeVisible();
    // Send waits for the upload.
    await expect(composer(ana.page).getByRole("button", { name: "Send" })).toBeDisabled();
    // Released, the route lets every later upload through at once.
    release();
    await expect(chip(ana.page, "wide.png")).toHaveAttribute("data-state", "done");
    await expect(chip(ana.page, "wide.png").locator("img.upload__thumb")).toHaveAttribute("src", /^\/files\/[0-9a-f-]{36}\/thumb$/);

    // A drop on the conversation adds a second image to the same message.
    const tall = await png(ana.page, "tall.png", 120, 300, "#17703d");
    await dropFiles(ana.page.locator(".room__conversation"), [tall]);
    await expect(chip(ana.page, "tall.png")).toHaveAttribute("data-state", "done");
    await expectAllOnScreen(ana.page, `the composer with two chips (${size})`);
    await screenshot(ana.page, `files-composer-${size}`);
    if (size === "desktop") await expectAccessible(ana.page, "the composer with chips");

    // Files alone may be sent: the message shows them, not their names as text.
    await composer(ana.page).getByRole("button", { name: "Send" }).click();
    await expect(composer(ana.page).getByTestId("upload")).toHaveCount(0);
    const sent = messageWith(ana.page, "wide.png");
    await expect(sent).toHaveAttribute("data-state", "sent");
    await expect(sent.getByTestId("body")).toHaveCount(0);

    // Bo sees both thumbnails, sized from the images before they load, and loaded.
    const boWide = thumbnail(bo.page, "wide.png");
    await expect(boWide).toHaveAttribute("src", /^\/files\/[0-9a-f-]{36}\/thumb$/);
    await expect(boWide).toHaveAttribute("width", "360");
    await expect(boWide).toHaveAttribute("height", "270");
    await expect(thumbnail(bo.page, "tall.png")).toHaveAttribute("height", "270");
    await expectLoaded(boWide);
    await expectLoaded(thumbnail(bo.page, "tall.png"));
    // On a phone too, a thumbnail stays inside the screen and keeps its shape.
    const box = (await boWide.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
    expect(Math.abs(box.width / box.height - 4 / 3)).toBeLessThan(0.02);
    await expectAllOnScreen(bo.page, `a message with images (${size})`);
    await screenshot(bo.page, `files-message-${size}`);

    // The thumbnail opens the full image in a lightbox; Esc closes it.
    await bo.page.getByRole("link", { name: "Open wide.png" }).click();
    const lightbox = bo.page.getByRole("dialog", { name: "wide.png" });
    await expect(lightbox).toBeVisible();
    const full = lightbox.locator("img.lightbox__image");
    await expect(full).toHaveAttribute("src", /^\/files\/[0-9a-f-]{36}$/);
    await expectLoaded(full);
    expect(await full.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(640);
    await expectAllOnScreen(bo.page, `the lightbox (${size})`);
    await screenshot(bo.page, `files-lightbox-${size}`);
    if (size === "desktop") await expectAccessible(bo.page, "a message with images, its lightbox open");
    await bo.page.keyboard.press("Escape");
    await expect(lightbox).toHaveCount(0);

    expect(ana.problems).toEqual([]);
    expect(bo.problems).toEqual([]);
  });
}

test("a pasted image is attached, and a message may carry text and files", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("paste"));
  await openRoom(bo.page, room);

  const box = ana.page.getByLabel("Message", { exact: true });
  await box.fill("a screenshot");
  await pasteFile(box, await png(ana.page, "pasted.png", 200, 100, "#b3261e"));
  await expect(chip(ana.page, "pasted.png")).toHaveAttribute("data-state", "done");
  await expect(box).toHaveValue("a screenshot");
  // Removing a chip takes the file out of the message; pasting again puts one back.
  await chip(ana.page, "pasted.png").getByRole("button", { name: "Remove pasted.png" }).click();
  await expect(chip(ana.page, "pasted.png")).toHaveCount(0);
  await pasteFile(box, await png(ana.page, "again.png", 200, 100, "#8a5300"));
  await expect(chip(ana.page, "again.png")).toHaveAttribute("data-state", "done");
  await box.press("Enter");

  const seen = messageWith(bo.page, "again.png");
  await expect(seen.getByTestId("body")).toHaveText("a screenshot");
  await expectLoaded(thumbnail(bo.page, "again.png"));
  await expect(thumbnail(bo.page, "pasted.png")).toHaveCount(0);

  // Plain text pasted is pasted as text, not attached.
  await box.evaluate((el) => {
    const data = new DataTransfer();
    data.setData("text/plain", "just words");
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  });
  await expect(composer(ana.page).getByTestId("upload")).toHaveCount(0);

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

test("any other file is a card with its name, size and a download link", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("docs"));
  await openRoom(bo.page, room);

  const notes = { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello world\n".repeat(100)) };
  await composer(ana.page).getByTestId("attach-input").setInputFiles(notes);
  await expect(chip(ana.page, "notes.txt")).toHaveAttribute("data-state", "done");
  await send(ana.page, "the notes");

  const card = messageWith(bo.page, "notes.txt").getByTestId("attachment-file");
  await expect(card.getByTestId("attachment-name")).toHaveText("notes.txt");
  await expect(card.getByTestId("attachment-meta")).toHaveText("1.2 KB · TXT");
  await expect(card).toHaveAttribute("href", /^\/files\/[0-9a-f-]{36}$/);
  await expect(card).toHaveAttribute("download", "notes.txt");
  const download = await bo.page.request.get((await card.getAttribute("href"))!);
  expect(download.status()).toBe(200);
  expect(download.headers()["content-disposition"]).toMatch(/^attachment/);
  expect((await download.body()).length).toBe(1200);
  await screenshot(bo.page, "files-card");
  await expectAccessible(bo.page, "a message with a file card");

  // After a reload (the page rendered by the server) the card is still there.
  await bo.page.reload();
  await expect(messageWith(bo.page, "notes.txt").getByTestId("attachment-file")).toHaveAttribute("href", /^\/files\//);

  // A message takes at most 10 files: the rest are left out, and the tray says so.
  const many = Array.from({ length: 11 }, (_, i) => ({ ...notes, name: `n${i}.txt` }));
  await composer(ana.page).getByTestId("attach-input").setInputFiles(many);
  await expect(composer(ana.page).getByTestId("upload")).toHaveCount(10);
  await expect(composer(ana.page).getByTestId("uploads-note")).toHaveText(
    "A message takes at most 10 files: 1 file was left out.",
  );
  await expect(composer(ana.page).getByRole("button", { name: "Attach files" })).toBeDisabled();

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

test("a message with a file made offline waits showing its file, and goes with it once back", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("offlinefiles"));
  await openRoom(bo.page, room);
  const report = { name: "report.txt", mimeType: "text/plain", buffer: Buffer.from("all good\n") };
  await composer(ana.page).getByTestId("attach-input").setInputFiles(report);
  await expect(chip(ana.page, "report.txt")).toHaveAttribute("data-state", "done");

  // Offline, the message waits in the outbox, its file shown on its pending line.
  await ana.context.setOffline(true);
  await expect(ana.page.getByTestId("connection")).toHaveAttribute("data-state", "offline");
  await send(ana.page, "written offline");
  const pending = row(ana.page, "written offline");
  await expect(pending).toHaveAttribute("data-state", "pending");
  await expect(pending.getByTestId("send-status")).toHaveText("Waiting for the network…");
  await expect(pending.getByTestId("attachment-name")).toHaveText("report.txt");

  // Back online it is sent with the same file, once.
  await ana.context.setOffline(false);
  await expect(row(ana.page, "written offline")).toHaveAttribute("data-state", "sent", { timeout: 15_000 });
  await expect(row(ana.page, "written offline").getByTestId("attachment-name")).toHaveText("report.txt");
  await expect(row(bo.page, "written offline")).toHaveCount(1);
  await expect(row(bo.page, "written offline").getByTestId("attachment-name")).toHaveText("report.txt");

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

test("a reply in a thread carries files too", async ({ browser }) => {
  const ana = await person(browser, BASE, "ana", "Ana");
  const bo = await person(browser, BASE, "bo", "Bo");
  const room = await createRoom(ana.page, uniqueHandle("threadfiles"));
  await openRoom(bo.page, room);
  await send(ana.page, "the plan, in a thread");
  const root = row(ana.page, "the plan, in a thread");
  await expect(root).toHaveAttribute("data-state", "sent");
  await root.hover();
  await root.getByRole("button", { name: "Reply in thread" }).click();

  // The pane has its own paperclip and tray; a reply of a file alone is allowed.
  const pane = ana.page.getByTestId("thread");
  const plan = { name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from("step one\n") };
  await pane.getByTestId("attach-input").setInputFiles(plan);
  await expect(pane.getByTestId("upload")).toHaveAttribute("data-state", "done");
  await pane.getByTestId("thread-input").press("Enter");
  await expect(pane.getByTestId("upload")).toHaveCount(0);
  await expect(pane.getByTestId("reply").getByTestId("attachment-name")).toHaveText("plan.txt");

  await row(bo.page, "the plan, in a thread").getByTestId("thread-link").click();
  const card = bo.page.getByTestId("thread").getByTestId("reply").getByTestId("attachment-file");
  await expect(card).toHaveAttribute("href", /^\/files\/[0-9a-f-]{36}$/);
  await expect(card.getByTestId("attachment-meta")).toHaveText("9 B · TXT");

  expect(ana.problems).toEqual([]);
  expect(bo.problems).toEqual([]);
});

test("a file over the server's limit is refused on its chip before a byte is sent", async ({ browser }) => {
  const server = await OwnServer.start({ CONFAB_MAX_UPLOAD_BYTES: "2048" });
  try {
    const ana = await person(browser, server.url, "ana", "Ana");
    await createRoom(ana.page, uniqueHandle("limits"));
    const uploads: string[] = [];
    ana.page.on("request", (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname === "/files") uploads.push(r.url());
    });
    const big = { name: "big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(10_000, 7) };
    await composer(ana.page).getByTestId("attach-input").setInputFiles(big);
    await expect(chip(ana.page, "big.bin")).toHaveAttribute("data-state", "failed");
    // The server's `welcome` said how large a file may be: the page refuses at once.
    await expect(chip(ana.page, "big.bin").getByTestId("upload-error")).toHaveText(
      "The file is too large: files up to 2.0 KB can be shared here.",
    );
    expect(uploads, "nothing was sent to the server").toEqual([]);
    // A failed file is not sent: with nothing typed there is nothing to send.
    await composer(ana.page).getByRole("button", { name: "Send" }).click();
    await expect(ana.page.getByTestId("messages").getByTestId("message")).toHaveCount(0);
    await chip(ana.page, "big.bin").getByRole("button", { name: "Remove big.bin" }).click();
    await expect(composer(ana.page).getByTestId("upload")).toHaveCount(0);
    expect(ana.problems).toEqual([]);
  } finally {
    await server.down();
  }
});
