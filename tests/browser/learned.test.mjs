// What the model learned and why: what the model sees of a photo, the wrong-preprocessing
// experiment, augmentation reaching both the preview and training (on 10 real photos per class:
// the built-in samples plus held-out photos), and the comparison of ways to train with its final
// test, on 3 classes x 8 uploaded photos and on the built-in sample photos.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { servePageInBrowser, openPage, screenshot, artifactsDir, photos, waitForCounts } from "./harness.mjs";

const WAIT_MS = 300_000;
const classes = ["bird", "flower", "fruit"];
const session = servePageInBrowser();

/** Trains, waits for the run to end, and returns how long it took. */
async function train(page) {
  const started = Date.now();
  await page.getByTestId("train").click();
  await page.waitForFunction(
    () => !["idle", "preparing", "running"].includes(document.querySelector('[data-testid="train-status"]').dataset.state),
    null,
    { timeout: WAIT_MS },
  );
  const status = page.getByTestId("train-status");
  assert.equal(await status.getAttribute("data-state"), "done", await status.textContent());
  return Date.now() - started;
}

/** The page with `perClass` real photos uploaded to each of three classes (samples, then
 * held-out ones), the settings open and `testFraction` of each class kept for the final test. */
async function openWithPhotos(perClass = 10, testFraction = 0) {
  const opened = await openPage(session.browser, session.server.origin);
  const { page } = opened;
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("add-class").click();
  const cards = page.getByTestId("class-card");
  for (const [i, name] of classes.entries()) {
    await cards.nth(i).getByTestId("class-name").fill(name);
    const files = [...(await photos("www/samples", name)), ...(await photos("tests/photos/held-out", name))];
    await cards.nth(i).getByTestId("class-upload").setInputFiles(files.slice(0, perClass));
  }
  await waitForCounts(page, classes.map(() => `${perClass} photos`));
  await page.getByTestId("settings").locator("summary").click();
  await setSetting(page, "test_fraction", testFraction);
  return opened;
}

async function setSetting(page, name, value) {
  const input = page.getByTestId("settings").locator(`[name="${name}"]`);
  await input.fill(String(value));
  await input.press("Tab");
}

/** SHA-256 of every view image in the augmentation preview. */
async function previewHashes(page) {
  return page.getByTestId("augment-preview").locator("img").evaluateAll(async (images) => {
    const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
    return Promise.all(images.map(async (img) => hex(await crypto.subtle.digest("SHA-256", await (await fetch(img.src)).arrayBuffer()))));
  });
}

/** Waits until the preview shows the six views of the last switch (`settings`, e.g.
 * "crop,flip"): each switch asks for new views, and the page shows only the latest answer, so
 * views read before it has come may be replaced (and their URLs revoked) mid-read. */
async function waitForPreview(page, settings) {
  await page.waitForFunction(
    (want) => {
      const preview = document.querySelector('[data-testid="augment-preview"]');
      return preview.dataset.settings === want && preview.dataset.views === "6";
    },
    settings,
    { timeout: WAIT_MS },
  );
}

test("a photo shows exactly what the model sees, and wrong preprocessing measurably costs accuracy", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openWithPhotos();
  await setSetting(page, "validation_fraction", 0.4);
  await train(page);
  const correct = Number(await page.getByTestId("train-status").getAttribute("data-validation-accuracy"));

  // Tapping a photo shows its 224x224 model input and the normalization written out.
  const card = page.getByTestId("class-card").nth(2);
  await card.locator(".thumb .inspect").nth(4).click();
  const view = page.getByTestId("preprocessing-view");
  assert.equal(await view.getAttribute("data-file"), "pineapple.png");
  const size = await view.getByTestId("model-input").evaluate(async (img) => {
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  assert.deepEqual(size, [224, 224]);
  // What each photo keeps besides its embedding: the model input (PNG) and the thumbnail (JPEG).
  const keptBytes = await page.getByTestId("class-card").locator(".thumb img").evaluateAll(async (thumbnails) => {
    const inputs = [...document.querySelectorAll('[data-testid="model-input"]')];
    const size = async (img) => (await (await fetch(img.src)).blob()).size;
    const thumbnailBytes = await Promise.all(thumbnails.map(size));
    return { thumbnailMeanBytes: thumbnailBytes.reduce((a, b) => a + b, 0) / thumbnailBytes.length, shownInputBytes: await size(inputs[0]) };
  });
  console.log("bytes kept per photo:", JSON.stringify(keptBytes));
  assert.match(await view.textContent(), /\(x − 127\) \/ 128: 0 → -0\.99, 127 → 0\.00, 255 → 1\.00/);

  const results = { correct };
  const formulas = { raw: "no normalization", "zero-to-one": "x / 255", imagenet: "ImageNet" };
  for (const option of ["raw", "zero-to-one", "imagenet"]) {
    await page.getByTestId("wrong-normalization").selectOption(option);
    const toggle = page.getByTestId("wrong-preprocessing");
    if (!(await toggle.isChecked())) await toggle.check();
    const result = page.getByTestId("wrong-preprocessing-result");
    await page.waitForFunction(
      (formula) => {
        const shown = document.querySelector('[data-testid="wrong-preprocessing-result"]');
        return shown?.dataset.state === "done" && shown.textContent.includes(formula);
      },
      formulas[option],
      { timeout: WAIT_MS },
    );
    results[option] = Number(await result.getAttribute("data-accuracy"));
    assert.equal(Number(await result.getAttribute("data-correct-accuracy")), correct);
    assert.ok(results[option] >= 0 && results[option] <= 1);
  }
  console.log("validation accuracy by preprocessing:", JSON.stringify(results));
  // Forgetting to normalize costs accuracy even with a head retrained on it. (0..1 inputs and
  // ImageNet's mean and std cost little or nothing on these photos: reported, not asserted.)
  assert.ok(results.raw < correct, `unnormalized inputs: ${results.raw} against ${correct}`);
  // The experiment never replaces the model the student classifies with.
  assert.equal(await page.getByTestId("model-info").getAttribute("data-version"), "1");
  await page.getByTestId("wrong-preprocessing").uncheck();
  assert.equal(await page.getByTestId("wrong-preprocessing-result").count(), 0);
  await screenshot(page, "preprocessing");
  assert.deepEqual(consoleErrors, []);
});

test("augmentation shows in the preview and its views reach training", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openWithPhotos();
  const plainMs = await train(page);
  const status = page.getByTestId("train-status");
  const plain = Number(await status.getAttribute("data-validation-accuracy"));
  assert.equal(await status.getAttribute("data-views"), "0");

  // On: six different views of the first photo. Off: six copies of the photo itself.
  for (const name of ["augment-crop", "augment-flip", "augment-color"]) await page.getByTestId(name).check();
  await waitForPreview(page, "crop,flip,color");
  assert.equal(await page.getByTestId("augment-preview").getAttribute("data-augmented"), "true");
  const augmented = new Set(await previewHashes(page));
  assert.ok(augmented.size >= 5, `${augmented.size} different views of 6`);
  for (const name of ["augment-crop", "augment-flip", "augment-color"]) await page.getByTestId(name).uncheck();
  await waitForPreview(page, "");
  assert.equal(await page.getByTestId("augment-preview").getAttribute("data-augmented"), "false");
  assert.equal(new Set(await previewHashes(page)).size, 1, "with augmentation off every view is the photo");

  // Training with 2 views of each of the 30 photos (10 a class validate by folds, so all train):
  // 60 views embedded once.
  // The views are typed while the new preview re-renders the page: what was typed stays.
  for (const name of ["augment-crop", "augment-flip", "augment-color"]) await page.getByTestId(name).check();
  const views = page.getByTestId("settings").locator('[name="views_per_photo"]');
  await views.fill("2");
  await waitForPreview(page, "crop,flip,color");
  assert.equal(await views.inputValue(), "2");
  await views.press("Tab");
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "preparing");
  const preparingStarted = Date.now();
  await page.waitForFunction(
    () => !["preparing", "running"].includes(document.querySelector('[data-testid="train-status"]').dataset.state),
    null,
    { timeout: WAIT_MS },
  );
  const augmentedMs = Date.now() - preparingStarted;
  assert.equal(await status.getAttribute("data-state"), "done", await status.textContent());
  assert.equal(await status.getAttribute("data-views"), "60");
  assert.match(await status.textContent(), /on 30 photos and 60 augmented views \(each took a turn at validation, in 5 rounds\)/);
  const withAugmentation = Number(await status.getAttribute("data-validation-accuracy"));

  // The views are cached: training again embeds nothing.
  const cachedMs = await train(page);
  const figures = { plain, withAugmentation, plainTrainMs: plainMs, augmentedTrainMs: augmentedMs, cachedTrainMs: cachedMs };
  console.log("augmentation:", JSON.stringify(figures));
  await mkdir(artifactsDir, { recursive: true });
  await writeFile(join(artifactsDir, "augmentation.json"), JSON.stringify(figures, null, 2));
  assert.ok(withAugmentation > 0.5, `validation accuracy with augmentation ${withAugmentation}`);
  await screenshot(page, "augmentation");
  assert.deepEqual(consoleErrors, []);
});

/** Predicts a ranking, runs the comparison, checks what every way reports, runs the final test
 * and checks the ranking the lessons teach, one test photo in `testPhotos` being the noise;
 * returns the figures. */
async function compareEveryWay(page, testPhotos) {
  const run = page.getByTestId("compare-run");
  assert.equal(await run.isDisabled(), true, "no run before a prediction");
  const prediction = ["finetune", "lora", "frozen", "knn", "centroid", "scratch"];
  for (const [place, mode] of prediction.entries()) {
    await page.locator(`[data-testid="predicted-place"][data-place="${place + 1}"]`).selectOption(mode);
  }
  assert.equal(await page.getByTestId("predicted-ranking").getAttribute("data-ranking"), prediction.join(">"));
  const started = Date.now();
  await run.click();
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="compare-result"]')].map((r) => r.dataset.state).join() === "done,done,done,done,done,done",
    null,
    { timeout: WAIT_MS },
  );
  const comparisonMs = Date.now() - started;
  // Nothing was tested yet: training saw only training and validation photos.
  const rows = () =>
    page.getByTestId("compare-result").evaluateAll((nodes) =>
      nodes.map((n) => ({ mode: n.dataset.mode, params: Number(n.dataset.trainableParams), ms: Number(n.dataset.trainMs), validation: Number(n.dataset.validationAccuracy), test: n.dataset.testAccuracy })),
    );
  const trained = await rows();
  assert.deepEqual(trained.map((r) => r.mode), ["centroid", "knn", "frozen", "finetune", "lora", "scratch"]);
  assert.deepEqual(trained.slice(0, 3).map((r) => r.params), [0, 0, 3 * 1281]);
  assert.ok(trained[3].params > 1_000_000, `fine-tuning trains the last 2 blocks too: ${trained[3].params}`);
  assert.ok(trained[4].params > 3 * 1281 && trained[4].params < trained[3].params / 20, `LoRA trains few numbers: ${trained[4].params}`);
  assert.ok(trained[5].params > trained[3].params, `from scratch every number trains: ${trained[5].params}`);
  assert.ok(trained.every((r) => r.test === undefined));
  assert.ok(trained.every((r) => r.validation >= 0 && r.validation <= 1 && r.ms >= 0));
  assert.ok(trained[2].ms > 0, "the head took some time to train");
  // The trained ways' curves share one pair of charts (loss, accuracy): one line per way each.
  const curves = page.getByTestId("compare-curves");
  assert.equal(await curves.count(), 1);
  for (const mode of ["frozen", "finetune", "lora", "scratch"]) {
    const lines = curves.locator(`polyline[data-mode="${mode}"]`);
    assert.deepEqual(await lines.evaluateAll((nodes) => nodes.map((n) => n.dataset.epochs)), ["40", "40"]);
  }
  assert.equal(await page.getByTestId("model-info").count(), 0, "the comparison did not make the model in use");

  await page.getByTestId("final-test").click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="compare-result"]')].every((r) => r.dataset.testAccuracy !== undefined), null, { timeout: WAIT_MS });
  const tested = await rows();
  assert.ok(tested.every((r) => Number(r.test) >= 0 && Number(r.test) <= 1));
  const ranking = page.getByTestId("ranking");
  assert.equal(await ranking.getAttribute("data-predicted"), prediction.join(">"));
  const measured = (await ranking.getAttribute("data-measured")).split(">");
  assert.deepEqual([...measured].sort(), [...prediction].sort());
  const byTest = [...tested].sort((a, b) => Number(b.test) - Number(a.test)).map((r) => Number(r.test));
  assert.deepEqual(measured.map((mode) => Number(tested.find((r) => r.mode === mode).test)), byTest);
  assert.equal(await page.getByTestId("final-test-result").count(), 0, "no model in use to test");
  const figures = Object.fromEntries(tested.map((r) => [r.mode, { validation: r.validation, test: Number(r.test), trainMs: r.ms, params: r.params }]));
  figures.wholeComparisonMs = comparisonMs;
  // The lesson's ranking: from scratch below the frozen features and the fine-tuned network;
  // fine-tuned not worse than frozen by more than noise (one test photo either way).
  assert.ok(figures.scratch.test < figures.frozen.test, `scratch ${figures.scratch.test}, frozen ${figures.frozen.test}`);
  assert.ok(figures.scratch.test < figures.finetune.test, `scratch ${figures.scratch.test}, fine-tuned ${figures.finetune.test}`);
  assert.ok(figures.finetune.test >= figures.frozen.test - 1 / testPhotos - 1e-6, `fine-tuned ${figures.finetune.test}, frozen ${figures.frozen.test}`);
  await mkdir(artifactsDir, { recursive: true });
  return figures;
}

test("the comparison on 3 classes x 8 uploaded photos trains every way on one split after a prediction, and one final test ranks them", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openWithPhotos(8, 0.25);
  // The model in use would validate 6 photos a class by folds; the comparison holds 2 back.
  const splits = await page.getByTestId("class-split").evaluateAll((nodes) => nodes.map((n) => [n.dataset.train, n.dataset.validation, n.dataset.test].map(Number)));
  assert.deepEqual(splits, [[6, 0, 2], [6, 0, 2], [6, 0, 2]]);
  const figures = await compareEveryWay(page, 6);
  console.log("comparison, 3 x 8 uploaded photos:", JSON.stringify(figures));
  await writeFile(join(artifactsDir, "comparison-uploaded.json"), JSON.stringify(figures, null, 2));
  await screenshot(page, "comparison");
  // A setting changed since: the comparison says its results are out of date.
  assert.equal(await page.getByTestId("compare-stale").count(), 0);
  await setSetting(page, "dropout", 0.3);
  await page.getByTestId("compare-stale").waitFor();
  // A reload brings the results, the curves and the ranking back as they were, still out of date.
  const results = () =>
    page.getByTestId("compare-result").evaluateAll((nodes) => nodes.map((n) => [n.dataset.mode, n.dataset.state, n.dataset.trainableParams, n.dataset.validationAccuracy, n.dataset.testAccuracy]));
  const shown = async () => ({ results: await results(), ranking: await page.getByTestId("ranking").getAttribute("data-measured"), curves: await page.locator('[data-testid="compare-curves"] polyline').count() });
  const beforeReload = await shown();
  await page.reload();
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("compare-result").first().waitFor();
  assert.deepEqual(await shown(), beforeReload);
  await page.getByTestId("compare-stale").waitFor();
  // The results table and the prediction fit a phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, "horizontal overflow at 390 px");
  assert.deepEqual(consoleErrors, []);
});

test("the comparison on the built-in sample photos shows the lessons' ranking", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("load-samples").click();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  await page.getByTestId("settings").locator("summary").click();
  await setSetting(page, "test_fraction", 0.2);
  const figures = await compareEveryWay(page, 3);
  console.log("comparison, sample photos:", JSON.stringify(figures));
  await writeFile(join(artifactsDir, "comparison-samples.json"), JSON.stringify(figures, null, 2));
  assert.deepEqual(consoleErrors, []);
});
