// Odd and hostile photos, as a classroom brings them (the corpus is made by corpus.mjs and
// corpus_formats.py): in one batch of 100 files each odd one is kept and shown correctly or
// refused by name, every good photo is kept, no script in a file or a file name ever runs, and
// an EXIF-rotated photo comes out upright.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { servePageInBrowser, openPage, photos } from "./harness.mjs";
import { corpus } from "./corpus.mjs";

const WAIT_MS = 300_000;
const session = servePageInBrowser();

test("in a batch of 100 with odd and hostile files, each is kept or refused by name and every good photo is kept", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const dialogs = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss();
  });
  const real = [...(await photos("www/samples", "bird")), ...(await photos("tests/photos/held-out", "bird"))];
  const odd = await corpus(page, await readFile(real[0]));
  const good = await Promise.all(
    Array.from({ length: 100 - odd.length }, async (_, i) => ({ name: `good-${String(i).padStart(2, "0")}-${basename(real[i % real.length])}`, mimeType: "image/png", buffer: await readFile(real[i % real.length]), expect: "kept" })),
  );
  const batch = [...odd, ...good].sort((a, b) => a.name.localeCompare(b.name));
  await page.getByTestId("class-card").nth(0).getByTestId("class-upload").setInputFiles(batch.map(({ name, mimeType, buffer }) => ({ name, mimeType, buffer })));
  await page.waitForFunction(() => document.querySelector('[data-testid="class-count"]').textContent !== "0 photos" && !document.querySelector('[data-testid="pending-photos"]'), null, { timeout: WAIT_MS });

  const shown = new Set(await page.getByTestId("class-card").nth(0).locator("img").evaluateAll((imgs) => imgs.map((img) => img.alt)));
  const notices = await page.getByTestId("notices").textContent();
  const outcome = Object.fromEntries(batch.map(({ name }) => [name, shown.has(name) ? "kept" : notices.includes(`"${name}" was skipped`) ? "refused" : "lost"]));
  console.log("odd files:", JSON.stringify(Object.fromEntries(odd.map(({ name, expect }) => [name.slice(0, 40), `${outcome[name]} (expected ${expect})`]))));
  for (const { name, expect } of batch) {
    assert.notEqual(outcome[name], "lost", `${name.slice(0, 60)}: neither kept nor named in a notice`);
    if (expect !== "either") assert.equal(outcome[name], expect, name.slice(0, 60));
  }
  assert.equal(await page.getByTestId("class-count").first().textContent(), `${[...shown].length} photos`);
  assert.match(notices, /"iphone.heic" was skipped: this browser cannot read HEIC photos \(an iPhone's format\); save it as a JPEG first\./);
  // Nothing in a file or a file name ran, or became markup.
  assert.deepEqual(dialogs, []);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  // Drawn the right way up and at the right shape.
  const size = (name) => page.getByTestId("class-card").nth(0).locator(`img[alt="${name}"]`).evaluate((img) => [img.naturalWidth, img.naturalHeight]);
  assert.deepEqual(await size("rotated-exif.jpg"), [80, 160], "a 64x32 photo marked rotate-90 is upright: portrait");
  assert.deepEqual(await size("strip-4000x6.png"), [160, 1]);
  assert.deepEqual(consoleErrors, []);
});

// A pasted paragraph as a class name, on a phone: cut to the 200 characters a project file
// holds, and one long word wraps rather than widening the page.
test("a 2,000-character class name is cut to 200 and the page stays as wide as a phone", { timeout: WAIT_MS }, async () => {
  const phone = await session.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const { page, consoleErrors } = await openPage(phone, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("load-samples").click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="class-count"]')].every((e) => e.textContent === "5 photos"), null, { timeout: WAIT_MS });
  const name = page.getByTestId("class-card").nth(0).getByTestId("class-name");
  await name.fill("x".repeat(2000));
  assert.equal((await name.inputValue()).length, 200);
  assert.deepEqual(await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]), [390, 390]);
  assert.deepEqual(consoleErrors, []);
  await phone.close();
});
