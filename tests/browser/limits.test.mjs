// Photos of any size a classroom brings: a file whose header claims 50,000 x 50,000 pixels is
// refused by name with its size, unread; a 30-megapixel photo is decoded straight to a smaller
// size and used; a file that is not an image is refused by name; the good photos of the same
// batch are all added.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { servePageInBrowser, openPage, photos, waitForCounts } from "./harness.mjs";
import { png } from "./corpus.mjs";

const WAIT_MS = 300_000;
const session = servePageInBrowser();

/** A real `width x height` PNG: sky over grass, each shading from left to right. */
function largePng(width, height) {
  const row = (colour) => {
    const bytes = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) bytes.set(colour(x / width), 1 + x * 3);
    return bytes;
  };
  const sky = row((t) => [90, 150, 230 - Math.round(t * 60)]);
  const grass = row((t) => [60, 140 + Math.round(t * 50), 50]);
  return png(width, height, Buffer.concat(Array.from({ length: height }, (_, y) => (y < height / 2 ? sky : grass))));
}

test("a photo too large to decode is refused by name, a large one is used, and the rest of the batch is added", { timeout: WAIT_MS * 2 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "headstart-limits-"));
  const liar = join(dir, "claims-50000x50000.png");
  // A few hundred bytes whose header states 2.5 billion pixels (10 GB decoded).
  await writeFile(liar, png(50_000, 50_000, Buffer.alloc(64)));
  const large = join(dir, "large-6400x4800.png");
  await writeFile(large, largePng(6400, 4800));
  const text = join(dir, "notes.jpg");
  await writeFile(text, "this is not a photo");
  const good = (await photos("tests/photos/held-out", "bird")).slice(0, 2);

  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("class-card").nth(0).getByTestId("class-upload").setInputFiles([liar, large, text, ...good]);
  await waitForCounts(page, ["3 photos", "0 photos"]);
  const notices = await page.getByTestId("notices").textContent();
  assert.match(notices, /"claims-50000x50000.png" was skipped: it is 50,000 × 50,000 pixels, more than the 200 million a photo may have\./);
  assert.match(notices, /"notes.jpg" was skipped: this is not an image the browser can decode\./);
  const names = await page.getByTestId("class-card").nth(0).locator("img").evaluateAll((imgs) => imgs.map((i) => i.alt));
  assert.deepEqual(names.sort(), ["large-6400x4800.png", ...good.map((f) => f.split("/").at(-1))].sort());
  // The large photo's thumbnail is small, whatever its size.
  const thumbnail = await page.getByTestId("class-card").nth(0).locator('img[alt="large-6400x4800.png"]').evaluate((img) => [img.naturalWidth, img.naturalHeight]);
  assert.deepEqual(thumbnail, [160, 120]);
  assert.deepEqual(consoleErrors, []);
});
