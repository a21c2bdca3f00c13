// The camera, fed from a real photo (Chromium's fake camera playing an MJPEG made from a
// held-out photo of a magpie): tap and hold a class's Capture button to add frames as photos,
// switch cameras, and classify the camera live once a model is trained. On a tablet (touch
// events, 768 × 1024) a finger does the same, and every control is a fingertip wide.
import { test } from "node:test";
import assert from "node:assert/strict";
import { servePageInBrowser, openPage, waitForCounts, screenshot } from "./harness.mjs";

const WAIT_MS = 300_000;
const session = servePageInBrowser({ cameraPhoto: "tests/photos/held-out/bird/magpie.png" });

/** Each class's photo count once nothing is being worked on. */
async function settledCounts(page) {
  await page.waitForFunction(() => !document.querySelector('[data-testid="pending-photos"]'), null, { timeout: WAIT_MS });
  return page.getByTestId("class-count").allTextContents();
}

/** Waits until the first class shows `count`, with nothing being worked on. */
async function firstClassShows(page, count) {
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="class-count"]').textContent === want && !document.querySelector('[data-testid="pending-photos"]'),
    count,
    { timeout: WAIT_MS },
  );
}

async function videoPlays(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid="camera-video"]')?.videoWidth > 0, null, { timeout: WAIT_MS });
}

test("frames from the camera become photos of a class, and the camera is classified live", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("load-samples").click();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  await page.getByTestId("webcam-start").click();
  await videoPlays(page);

  // Hold the bird class's Capture button for a second: a burst of frames.
  const capture = page.getByTestId("class-card").nth(0).getByTestId("capture");
  await capture.hover();
  await page.mouse.down();
  await page.waitForTimeout(1100);
  await page.mouse.up();
  // Frames are taken, then embedded: wait until the count stops growing.
  let afterBurst = 5;
  for (let settled = 0; settled < 3; ) {
    await page.waitForTimeout(300);
    const now = Number((await settledCounts(page))[0].split(" ")[0]);
    settled = now === afterBurst ? settled + 1 : 0;
    afterBurst = now;
  }
  assert.ok(afterBurst >= 5 + 3 && afterBurst <= 5 + 6, `a 1.1 s hold took ${afterBurst - 5} frames`);
  // A tap takes one, and so does the keyboard.
  await capture.click();
  await firstClassShows(page, `${afterBurst + 1} photos`);
  await capture.focus();
  await page.keyboard.press("Enter");
  await firstClassShows(page, `${afterBurst + 2} photos`);
  await page.waitForTimeout(500);
  assert.equal((await settledCounts(page))[0], `${afterBurst + 2} photos`, "one frame per tap or key press");
  const names = await page.getByTestId("class-card").nth(0).locator("img").evaluateAll((imgs) => imgs.map((i) => i.alt));
  assert.ok(names.includes("camera-1.jpg"), names.join(", "));

  // The other camera (the fake device has one, which answers either way), then live.
  await page.getByTestId("camera-switch").click();
  await videoPlays(page);
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: WAIT_MS });
  await page.getByTestId("live-classify").check();
  const live = page.getByTestId("live-prediction");
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="live-prediction"]')?.dataset.frames) >= 10, null, { timeout: WAIT_MS });
  const figures = { frames: Number(await live.getAttribute("data-frames")), fps: Number(await page.getByTestId("live-classify").getAttribute("data-fps")) };
  console.log("live classification:", JSON.stringify(figures));
  assert.equal(await live.getAttribute("data-label"), "bird");
  assert.ok(figures.fps > 0);
  assert.equal(await page.getByTestId("prediction").count(), 0, "live frames do not fill the predictions");
  await screenshot(page, "camera-live");
  await page.getByTestId("camera-stop").click();
  assert.equal(await page.getByTestId("live-prediction").count(), 0);
  assert.equal(await page.getByTestId("webcam-start").count(), 1);
  assert.deepEqual(consoleErrors, []);
});

/** The controls a finger uses that are under 44 × 44 CSS pixels, and the photos whose ✕ lies on
 * the photo: both empty on a page fit for touch. */
function touchTargetProblems() {
  const visible = (node) => node.getClientRects().length > 0 && getComputedStyle(node).visibility !== "hidden";
  const controls = [...document.querySelectorAll('button, select, input:not([type="checkbox"]):not([type="radio"]), label.switch, label.upload')].filter(visible);
  const small = controls
    .map((node) => ({ what: node.dataset.testid ?? node.className ?? node.tagName, ...node.getBoundingClientRect().toJSON() }))
    .filter(({ width, height }) => width < 44 || height < 44)
    .map(({ what, width, height }) => `${what} ${Math.round(width)}×${Math.round(height)}`);
  const overlapping = [...document.querySelectorAll(".thumb")].filter((thumb) => thumb.querySelector(".remove")).filter((thumb) => {
    const photo = thumb.querySelector("img").getBoundingClientRect();
    const remove = thumb.querySelector(".remove").getBoundingClientRect();
    return remove.left < photo.right && photo.left < remove.right && remove.top < photo.bottom && photo.top < remove.bottom;
  });
  return { checked: controls.length, small, overlapping: overlapping.length };
}

/** How far the page is wider than its window (0: no sideways scrolling). */
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

test("on a tablet a finger taps one frame and holds for a burst, every control is a fingertip wide, and the page fits tablets and phones", { timeout: WAIT_MS * 2 }, async () => {
  const tablet = await session.browser.newContext({ viewport: { width: 768, height: 1024 }, hasTouch: true });
  const { page, consoleErrors } = await openPage(tablet, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("load-samples").tap();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  await page.getByTestId("webcam-start").tap();
  await videoPlays(page);

  const capture = page.getByTestId("class-card").nth(0).getByTestId("capture");
  await capture.tap();
  await firstClassShows(page, "6 photos");
  await page.waitForTimeout(500);
  assert.equal((await settledCounts(page))[0], "6 photos", "a tap takes one frame");
  // A finger held on Capture for 1.1 s (touch events, as a tablet sends them).
  const box = await capture.boundingBox();
  const touch = await tablet.newCDPSession(page);
  const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await touch.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [point] });
  await page.waitForTimeout(1100);
  await touch.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  let afterBurst = 6;
  for (let settled = 0; settled < 3; ) {
    await page.waitForTimeout(300);
    const now = Number((await settledCounts(page))[0].split(" ")[0]);
    settled = now === afterBurst ? settled + 1 : 0;
    afterBurst = now;
  }
  console.log("touch: a 1.1 s hold took", afterBurst - 6, "frames");
  assert.ok(afterBurst >= 6 + 3 && afterBurst <= 6 + 6, `a 1.1 s hold took ${afterBurst - 6} frames`);

  // A long run, so that Stop is on the page while the sizes are read.
  await page.getByTestId("epochs").fill("3000");
  await page.getByTestId("epochs").press("Tab");
  await page.getByTestId("train").tap();
  await page.getByTestId("stop-training").waitFor();
  const sizes = { tablet: await page.evaluate(touchTargetProblems) };
  await page.getByTestId("stop-training").tap();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: WAIT_MS });
  const fits = { tablet: await overflow(page) };
  await screenshot(page, "tablet-portrait");
  for (const [name, viewport] of Object.entries({ "tablet-landscape": { width: 1024, height: 768 }, phone: { width: 390, height: 844 } })) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(200);
    fits[name] = await overflow(page);
    sizes[name] = await page.evaluate(touchTargetProblems);
    await screenshot(page, name);
  }
  console.log("touch targets:", JSON.stringify({ sizes, overflowPx: fits }));
  for (const [name, { checked, small, overlapping }] of Object.entries(sizes)) {
    assert.ok(checked > 20, `${name}: ${checked} controls read`);
    assert.deepEqual(small, [], `${name}: controls under 44 × 44 px`);
    assert.equal(overlapping, 0, `${name}: a photo's ✕ lies on the photo`);
  }
  assert.deepEqual(fits, { tablet: 0, "tablet-landscape": 0, phone: 0 }, "no sideways scrolling");
  await page.getByTestId("camera-stop").tap();
  assert.deepEqual(consoleErrors, []);
  await tablet.close();
});
