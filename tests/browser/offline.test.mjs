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
  const { page, requests, consoleErrors } = await openPage(profile, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const installStart = Date.now();
  await page.waitForFunction(() => document.querySelector('[data-testid="offline"]')?.dataset.state === "ready", null, { timeout: WAIT_MS });
  const cached = await page.evaluate(async () => {
    const [name] = await caches.keys();
    const requests = await (await caches.open(name)).keys();
    return { name, files: requests.length, urls: requests.map((r) => r.url) };
  });
  console.log("offline copy:", JSON.stringify({ name: cached.name, files: cached.files, installMs: Date.now() - installStart }));
  assert.ok(cached.files > 20, "the page, its workers, the weights and the sample photos are cached");
  // With no GPU (only a software adapter here) the worker's WebGPU build is never downloaded,
  // neither by the page nor for the offline copy.
  assert.deepEqual([...requests, ...cached.urls].filter((url) => url.includes("headstart-worker-webgpu")), []);
  assert.ok(cached.urls.some((url) => url.endsWith("/headstart-worker_bg.wasm")));
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
  console.log("ready with no network:", Date.now() - reloadStart, "ms;", session.server.triedWhileOffline.length, "connection(s) tried");
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

// The worker's WebGPU build is fetched only by a page whose first worker may use a GPU; such a
// page asks the service worker to keep it, so that page too works with no network on WebGPU.
// (Forced onto the software adapter here with ?compute=webgpu.)
test("a page on WebGPU keeps the worker's WebGPU build for offline use", { timeout: WAIT_MS * 2 }, async () => {
  const profile = await session.browser.newContext({ viewport: { width: 1200, height: 1000 } });
  const { page, requests, consoleErrors } = await openPage(profile, session.server.origin, "?compute=webgpu");
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByTestId("backend").getAttribute("data-path"), "WebGPU");
  assert.ok(requests.some((url) => url.endsWith("/headstart-worker-webgpu_bg.wasm")));
  await page.waitForFunction(
    () => document.querySelector('[data-testid="offline"]')?.dataset.state === "ready" && navigator.serviceWorker.controller,
    null,
    { timeout: WAIT_MS },
  );
  // Both files of the WebGPU build in the offline copy (polled from here, each CacheStorage
  // answer awaited).
  const keptFiles = () =>
    page.evaluate(async () => {
      const [name] = await caches.keys();
      const cache = name && (await caches.open(name));
      return cache ? (await cache.keys()).map((request) => request.url).filter((url) => url.includes("headstart-worker-webgpu")).length : 0;
    });
  const deadline = Date.now() + WAIT_MS;
  while ((await keptFiles()) < 2) {
    assert.ok(Date.now() < deadline, "the WebGPU build never reached the offline copy");
    await page.waitForTimeout(250);
  }
  const triedBefore = session.server.triedWhileOffline.length;
  session.server.offline = true;
  await page.reload();
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  // Only the browser's check for a newer service worker may try the network.
  assert.deepEqual(session.server.triedWhileOffline.slice(triedBefore).filter((url) => url !== "/offline.js"), []);
  const badge = page.getByTestId("backend");
  assert.equal(await badge.getAttribute("data-path"), "WebGPU", await badge.getAttribute("title"));
  session.server.offline = false;
  assert.deepEqual(consoleErrors.filter((e) => !/service ?worker|offline\.js/i.test(e)), []);
  await profile.close();
});
