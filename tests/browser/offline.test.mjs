// After one visit the page works with no network at all: its service worker has cached every
// file, so with the server answering nothing the page still loads, trains on the built-in
// sample photos and classifies. Its web manifest lets the browser install it as an app.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servePageInBrowser, openPage, photos, waitForCounts, pageProbabilities, screenshot } from "./harness.mjs";

const WAIT_MS = 300_000;
const session = servePageInBrowser();

test("after the first visit the page loads, trains and classifies with no network at all", { timeout: WAIT_MS * 2 }, async () => {
  const profile = await session.browser.newContext({ viewport: { width: 1200, height: 1000 } });
  const { page, consoleErrors } = await openPage(profile, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const installStart = Date.now();
  await page.waitForFunction(() => document.querySelector('[data-testid="offline"]')?.dataset.state === "ready", null, { timeout: WAIT_MS });
  const cached = await page.evaluate(async () => {
    const [name] = await caches.keys();
    const requests = await (await caches.open(name)).keys();
    return { name, files: requests.length };
  });
  console.log("offline copy:", JSON.stringify({ ...cached, installMs: Date.now() - installStart }));
  assert.ok(cached.files > 20, "the page, its workers, the weights and the sample photos are cached");
  // The browser can install it as an app: Chromium finds nothing missing, apart from the
  // test's own browser profile being a private one.
  const devtools = await profile.newCDPSession(page);
  const { installabilityErrors } = await devtools.send("Page.getInstallabilityErrors");
  assert.deepEqual(installabilityErrors.filter((e) => e.errorId !== "in-incognito"), []);
  const { url: manifestUrl } = await devtools.send("Page.getAppManifest");
  assert.ok(manifestUrl.endsWith("/manifest.webmanifest"), manifestUrl);

  session.server.offline = true;
  const reloadStart = Date.now();
  await page.reload();
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  console.log("ready with no network:", Date.now() - reloadStart, "ms;", session.server.requestsWhileOffline, "connection(s) tried");
  assert.equal(await page.getByTestId("offline").getAttribute("data-state"), "ready");
  await page.getByTestId("load-samples").click();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: WAIT_MS });
  const queries = (await photos("tests/photos/held-out", "fruit")).slice(0, 2);
  const seen = await pageProbabilities(page, queries);
  assert.equal(Object.keys(seen).length, 2);
  for (const probabilities of Object.values(seen)) assert.ok(Math.abs(probabilities.reduce((a, b) => a + b) - 1) < 1e-3);
  await screenshot(page, "offline");
  session.server.offline = false;
  // The browser's check for a newer service worker fails with no network; nothing else may.
  assert.deepEqual(consoleErrors.filter((e) => !/service ?worker|offline\.js/i.test(e)), []);
  await profile.close();
});
