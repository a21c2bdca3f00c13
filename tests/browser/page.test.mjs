// The student's path through the real page: create classes, upload real photos, train,
// classify held-out photos, and check what the page says against the truth.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { headstartCli, servePageInBrowser, openPage, screenshot, repoRoot, artifactsDir, photos, waitForCounts, pageProbabilities, resealed, withByteChanged } from "./harness.mjs";

const MODEL_READY_MS = 180_000;
const TEST_MS = 900_000;
const TRAIN_MS = 300_000;
const samplesDir = join(repoRoot, "www", "samples");
const heldOutDir = join(repoRoot, "tests", "photos", "held-out");
const classes = ["bird", "flower", "fruit"];

const session = servePageInBrowser();

async function waitForReady(page) {
  await page.getByTestId("ready").waitFor({ timeout: MODEL_READY_MS });
}

async function classCounts(page) {
  return page.getByTestId("class-count").allTextContents();
}

async function trainAndWait(page) {
  const started = Date.now();
  await page.getByTestId("train").click();
  const status = page.getByTestId("train-status");
  await page.waitForFunction(
    () => ["done", "error"].includes(document.querySelector('[data-testid="train-status"]').dataset.state),
    null,
    { timeout: TRAIN_MS },
  );
  assert.equal(await status.getAttribute("data-state"), "done", await status.textContent());
  return Date.now() - started;
}

test("a student trains on uploaded photos and classifies held-out ones on the CPU path", { timeout: TEST_MS }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  const loadStarted = Date.now();
  await waitForReady(page);
  const readyMs = Date.now() - loadStarted;
  // Only a software adapter exists here: it must not be preferred over the CPU.
  assert.equal(await page.getByTestId("backend").getAttribute("data-path"), "CPU");

  // Two empty classes to start with; add a third; name them.
  assert.equal(await page.getByTestId("class-card").count(), 2);
  await page.getByTestId("add-class").click();
  const cards = page.getByTestId("class-card");
  assert.equal(await cards.count(), 3);
  for (const [i, name] of classes.entries()) {
    await cards.nth(i).getByTestId("class-name").fill(name);
    await cards.nth(i).getByTestId("class-name").press("Enter");
  }

  // A file that is not an image is refused with a message and the rest are kept.
  const bogus = join(artifactsDir, "not-a-photo.jpg");
  await mkdir(artifactsDir, { recursive: true });
  await writeFile(bogus, "this is text, not a JPEG");
  const embedStarted = Date.now();
  for (const [i, name] of classes.entries()) {
    const files = await photos(samplesDir, name);
    await cards.nth(i).getByTestId("class-upload").setInputFiles(i === 0 ? [...files, bogus] : files);
  }
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  const embedMs = Date.now() - embedStarted;
  assert.match(await page.getByTestId("notices").textContent(), /not-a-photo\.jpg/);

  const trainMs = await trainAndWait(page);
  const status = page.getByTestId("train-status");
  const trainAccuracy = Number(await status.getAttribute("data-train-accuracy"));
  const validationAccuracy = Number(await status.getAttribute("data-validation-accuracy"));
  assert.ok(trainAccuracy >= 0.9, `training accuracy ${trainAccuracy}`);
  assert.ok(validationAccuracy >= 0 && validationAccuracy <= 1, `validation accuracy ${validationAccuracy}`);
  // 5 photos a class: one waits for the final test and the other 4 validate by turns, in 4
  // rounds; the figure is their mean and spread, the curve a band, and one line says why.
  assert.match(await status.textContent(), /validation accuracy \d+% ± \d+%/);
  assert.equal(await status.getAttribute("data-folds"), "4");
  const spread = Number(await status.getAttribute("data-validation-spread"));
  assert.ok(spread >= 0 && spread <= 0.5, `spread ${spread}`);
  assert.match(await page.getByTestId("folds-why").textContent(), /learned from all 12 photos/);
  // One band on each of the two charts, loss and accuracy.
  assert.equal(await page.locator('[data-testid="curves"] polygon.band.validation').count(), 2);

  // Each class shows its split; the final test measures the model on the photos kept aside.
  const splits = await page.getByTestId("class-split").evaluateAll((nodes) => nodes.map((n) => [n.dataset.train, n.dataset.validation, n.dataset.test, n.dataset.byFolds]));
  assert.deepEqual(splits, [["4", "0", "1", "true"], ["4", "0", "1", "true"], ["4", "0", "1", "true"]]);
  await page.getByTestId("final-test").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="final-test-result"]')?.dataset.accuracy !== undefined);
  const finalTest = page.getByTestId("final-test-result");
  assert.equal(await finalTest.getAttribute("data-total"), "3");
  assert.equal(await finalTest.getAttribute("data-stale"), "false");
  assert.equal(await finalTest.getAttribute("data-tests-run"), "1");
  const testAccuracy = Number(await finalTest.getAttribute("data-accuracy"));
  assert.ok(testAccuracy >= 0 && testAccuracy <= 1, `test accuracy ${testAccuracy}`);

  // The confusion matrix counts every photo that validated once (the 12 that took turns, none
  // of the test's), and a cell shows exactly its photos.
  const heldBack = splits.reduce((sum, [train]) => sum + Number(train), 0);
  const cells = await page.getByTestId("confusion-cell").evaluateAll((nodes) =>
    nodes.map((n) => ({ truth: n.dataset.true, predicted: n.dataset.predicted, count: Number(n.dataset.count) })),
  );
  assert.equal(cells.length, classes.length ** 2);
  assert.equal(cells.reduce((sum, c) => sum + c.count, 0), heldBack);
  const filled = cells.find((c) => c.count > 0);
  await page.locator(`[data-testid="confusion-cell"][data-true="${filled.truth}"][data-predicted="${filled.predicted}"]`).click();
  const shownPhotos = page.getByTestId("cell-photos");
  assert.equal(Number(await shownPhotos.getAttribute("data-count")), filled.count);
  assert.equal(await shownPhotos.locator("img").count(), filled.count);
  const shownFiles = await shownPhotos.locator("figure").evaluateAll((nodes) => nodes.map((n) => n.dataset.file));
  for (const file of shownFiles) assert.ok((await photos(samplesDir, filled.truth)).some((p) => p.endsWith(`/${file}`)), `${file} is a ${filled.truth} photo`);

  // The mistakes list holds the off-diagonal photos; moving one to the class the model chose
  // takes it off the list and changes both classes' counts.
  const wrong = cells.filter((c) => c.truth !== c.predicted).reduce((sum, c) => sum + c.count, 0);
  const mistakes = page.getByTestId("mistake");
  assert.equal(await mistakes.count(), wrong);
  if (wrong > 0) {
    const first = mistakes.first();
    const [truth, predicted] = [await first.getAttribute("data-true"), await first.getAttribute("data-predicted")];
    const before = await classCounts(page);
    await first.getByTestId("move-photo").selectOption({ label: predicted });
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="mistake"]').length === n, wrong - 1);
    const after = await classCounts(page);
    const count = (texts, name) => Number(texts[classes.indexOf(name)].split(" ")[0]);
    assert.equal(count(after, truth), count(before, truth) - 1);
    assert.equal(count(after, predicted), count(before, predicted) + 1);
  }

  // Held-out photos of the same classes, never seen in training.
  const heldOut = [];
  for (const name of classes) for (const file of await photos(heldOutDir, name)) heldOut.push({ file, name });
  const predictStarted = Date.now();
  await page.getByTestId("predict-upload").setInputFiles(heldOut.map((p) => p.file));
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="prediction"]').length === n,
    heldOut.length,
    { timeout: MODEL_READY_MS },
  );
  const predictMs = Date.now() - predictStarted;
  const predictions = await page.getByTestId("prediction").evaluateAll((nodes) =>
    nodes.map((n) => ({ file: n.dataset.file, label: n.dataset.label, confidence: Number(n.dataset.confidence) })),
  );
  let correct = 0;
  for (const { file, name } of heldOut) {
    const shown = predictions.find((p) => p.file === file.split("/").pop());
    assert.ok(shown, `a prediction for ${file}`);
    assert.ok(classes.includes(shown.label), `label ${shown.label}`);
    assert.ok(shown.confidence > 1 / 3 && shown.confidence <= 1, `confidence ${shown.confidence}`);
    if (shown.label === name) correct += 1;
  }
  const accuracy = correct / heldOut.length;

  // A phone photo stored sideways with an EXIF orientation tag is classified as the upright one.
  const exifDir = join(repoRoot, "tests", "photos", "exif");
  await page.getByTestId("predict-upload").setInputFiles(
    ["pelican-upright.jpg", "pelican-exif-rotated.jpg"].map((name) => join(exifDir, name)),
  );
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="prediction"]').length === n,
    heldOut.length + 2,
    { timeout: MODEL_READY_MS },
  );
  const probabilitiesOf = (file) =>
    page.locator(`[data-testid="prediction"][data-file="${file}"] meter`).evaluateAll((meters) => meters.map((m) => m.value));
  const upright = await probabilitiesOf("pelican-upright.jpg");
  const tagged = await probabilitiesOf("pelican-exif-rotated.jpg");
  assert.equal(upright.length, classes.length);
  upright.forEach((p, i) => assert.ok(Math.abs(p - tagged[i]) < 0.03, `EXIF: ${upright} vs ${tagged}`));

  // Changing a setting after the final test marks its result as out of date.
  await page.getByTestId("epochs").fill("41");
  await page.getByTestId("epochs").press("Tab");
  assert.equal(await finalTest.getAttribute("data-stale"), "true");

  await screenshot(page, "student-flow");
  const timings = { readyMs, embedMs, trainMs, predictMs, trainAccuracy, validationAccuracy, testAccuracy, heldOutAccuracy: accuracy };
  console.log("student flow:", JSON.stringify(timings));
  await writeFile(join(artifactsDir, "student-flow.json"), JSON.stringify(timings, null, 2));
  assert.ok(accuracy >= 0.8, `held-out accuracy ${accuracy} (${correct}/${heldOut.length}); chance is 0.33`);

  // Nothing left the device (the harness checks every request of every test at the end), and
  // the page ran under its own strict policy: its origin only, WebAssembly allowed, its
  // one inline bootstrap script by hash, nothing inline otherwise (a violation would be in
  // consoleErrors: the harness records them).
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
  assert.match(policy, /^default-src 'self';/);
  assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+';/);
  assert.doesNotMatch(policy, /unsafe-inline|https?:|\*/);
  assert.deepEqual(consoleErrors, []);
});

test("the sample photos fill three classes and train with no upload", { timeout: TEST_MS }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await waitForReady(page);
  await page.getByTestId("load-samples").click();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  const names = await page.getByTestId("class-name").evaluateAll((inputs) => inputs.map((i) => i.value));
  assert.deepEqual(names, classes);
  await trainAndWait(page);
  assert.deepEqual(await classCounts(page), ["5 photos", "5 photos", "5 photos"]);

  // Photos dropped onto a class join it.
  const dropped = await page.evaluateHandle(async (names) => {
    const transfer = new DataTransfer();
    for (const name of names) {
      const bytes = await (await fetch(`samples/${name}`)).blob();
      transfer.items.add(new File([bytes], name.split("/").pop(), { type: "image/png" }));
    }
    return transfer;
  }, ["fruit/kiwi.png", "fruit/lemon.png"]);
  const fruitCard = page.getByTestId("class-card").nth(2);
  await fruitCard.dispatchEvent("dragover", { dataTransfer: dropped });
  await fruitCard.dispatchEvent("drop", { dataTransfer: dropped });
  await waitForCounts(page, ["5 photos", "5 photos", "7 photos"]);
  assert.match(await page.getByTestId("train-status").textContent(), /Done/);
  assert.equal(await page.getByText("Your classes changed since training").count(), 0);

  // Deleting a class removes it and its photos, and the page asks for retraining.
  await page.getByTestId("class-card").nth(1).getByTestId("delete-class").click();
  assert.deepEqual(await classCounts(page), ["5 photos", "7 photos"]);
  await page.getByText("Your classes changed since training").waitFor();
  assert.deepEqual(consoleErrors, []);
});

/** The model file's tensor that shows a model of `way` holds what it classifies with (`null`:
 * any size). */
const wayTensor = {
  frozen: ["head.weight", [1280, 3]],
  knn: ["examples", [null, 1280]], // one row per training photo
  finetune: ["network.blocks.0.expand.conv.weight", [1152, 192, 1, 1]],
  lora: ["network.blocks.0.expand.adapter.down.weight", [1, 192, 1, 1]], // rank 1
  scratch: ["network.stem.conv.weight", [32, 3, 3, 3]],
};

for (const [way, tensor] of Object.entries(wayTensor)) {
  test(`a ${way} model exported from the page imports into a fresh page and classifies exactly as before`, { timeout: TEST_MS }, async () => {
    const first = await openPage(session.browser, session.server.origin);
    await waitForReady(first.page);
    await first.page.getByTestId("load-samples").click();
    await waitForCounts(first.page, ["5 photos", "5 photos", "5 photos"]);
    await first.page.getByTestId("train-mode").selectOption(way);
    if (["finetune", "lora", "scratch"].includes(way)) {
      await first.page.getByTestId("epochs").fill("8");
      await first.page.getByTestId("epochs").press("Tab");
    }
    const trainMs = await trainAndWait(first.page);
    const info = first.page.getByTestId("model-info");
    assert.equal(await info.getAttribute("data-way"), way);
    console.log(`${way} model:`, JSON.stringify({ trainMs, params: Number(await info.getAttribute("data-trainable-params")) }));
    const queries = [];
    for (const name of classes) queries.push((await photos(heldOutDir, name))[0]);
    const classify = async (page) => {
      await page.getByTestId("predict-upload").setInputFiles(queries);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="prediction"]').length === n, queries.length, { timeout: MODEL_READY_MS });
      return page.getByTestId("prediction").evaluateAll((nodes) =>
        Object.fromEntries(nodes.map((n) => [n.dataset.file, [...n.querySelectorAll("meter")].map((m) => Number(m.value))])),
      );
    };
    const before = await classify(first.page);
    const [download] = await Promise.all([first.page.waitForEvent("download"), first.page.getByTestId("export-model").click()]);
    assert.equal(download.suggestedFilename(), "headstart-model-1.hsm");
    const modelFile = join(artifactsDir, `exported-${way}.hsm`);
    await mkdir(artifactsDir, { recursive: true });
    await download.saveAs(modelFile);
    const bytes = await readFile(modelFile);
    // A safetensors file: header length, then a JSON header naming the format and the way.
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
    assert.equal(header.__metadata__.format, "headstart-model");
    assert.equal(header.__metadata__.way, way);
    assert.deepEqual(header[tensor[0]].shape.map((size, i) => (tensor[1][i] === null ? null : size)), tensor[1]);
    assert.deepEqual(JSON.parse(header.__metadata__.manifest).class_names, classes);
    console.log(`${way} model file:`, bytes.length, "bytes");

    // A fresh page: a copy with one byte of its weights changed is refused by name (its
    // checksum), then the real file becomes its model.
    const second = await openPage(session.browser, session.server.origin);
    await waitForReady(second.page);
    const damaged = join(artifactsDir, `damaged-${way}.hsm`);
    await writeFile(damaged, withByteChanged(bytes, 8 + headerLength + Math.floor((bytes.length - 8 - headerLength) / 2)));
    await second.page.getByTestId("import-model").setInputFiles(damaged);
    await second.page.getByText(`"damaged-${way}.hsm" was not imported`).waitFor();
    assert.equal(await second.page.getByTestId("model-info").count(), 0);
    if (header.__metadata__.way !== "frozen" && header.__metadata__.way !== "knn") {
      // A layer renamed in the header (a well-formed file, its checksum sealed again) is found
      // out by the worker that loads the layers, before the model is used.
      const key = Object.keys(header).find((k) => k.startsWith("network.") && !k.startsWith("network.classifier."));
      const renamedKey = key.slice(0, -1) + (key.endsWith("x") ? "y" : "x");
      const renamed = join(artifactsDir, `renamed-${way}.hsm`);
      await writeFile(renamed, resealed(bytes, (text) => text.replace(`"${key}"`, `"${renamedKey}"`)));
      await second.page.getByTestId("import-model").setInputFiles(renamed);
      await second.page.getByText(`"renamed-${way}.hsm" was not imported`).waitFor();
      assert.equal(await second.page.getByTestId("model-info").count(), 0);
    }
    if (way === "frozen") {
      // Each kind of bad file is refused with its own reason, and no model is taken (edited
      // headers are sealed again, so that what they say is what refuses them).
      const withHeader = (edit) => resealed(bytes, edit);
      const manifest = JSON.parse(header.__metadata__.manifest);
      const badFiles = {
        "other-version": [withHeader((t) => t.replace('"format_version":"3"', '"format_version":"9"')), "another version of Headstart"],
        "random-bytes": [Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 251)), "not a Headstart model file"],
        "edited-version": [withByteChanged(bytes, bytes.indexOf('"format_version":"3"') + 18), "damaged or was edited"],
        "other-backbone": [withHeader((t) => t.replace(header.__metadata__.backbone_sha256, "0".repeat(64))), "another pretrained network"],
        "class-count": [withHeader((t) => t.replace(JSON.stringify(header.__metadata__.manifest).slice(1, -1), JSON.stringify(JSON.stringify({ ...manifest, class_names: [...classes, "extra"] })).slice(1, -1))), "damaged or was edited"],
      };
      for (const [name, [contents, reason]] of Object.entries(badFiles)) {
        const path = join(artifactsDir, `${name}.hsm`);
        await writeFile(path, contents);
        await second.page.getByTestId("import-model").setInputFiles(path);
        await second.page.getByText(`"${name}.hsm" was not imported:`).waitFor();
        assert.match(await second.page.getByTestId("notices").textContent(), new RegExp(`"${name}.hsm" was not imported: [^.]*${reason}`));
        assert.equal(await second.page.getByTestId("model-info").count(), 0);
      }
    }
    await second.page.getByTestId("import-model").setInputFiles(modelFile);
    await second.page.getByTestId("model-info").waitFor();
    assert.equal(await second.page.getByTestId("model-info").getAttribute("data-classes"), classes.join("\n"));
    assert.equal(await second.page.getByTestId("model-info").getAttribute("data-way"), way);
    const after = await classify(second.page);
    for (const [file, probabilities] of Object.entries(before)) {
      probabilities.forEach((p, i) => assert.ok(Math.abs(p - after[file][i]) < 1e-6, `${file}: ${probabilities} vs ${after[file]}`));
    }
    assert.deepEqual(first.consoleErrors, []);
    assert.deepEqual(second.consoleErrors, []);
  });
}

/** The command line's probabilities for `files` under the model file `model`, by file name. */
async function cliProbabilities(model, files) {
  const rows = await headstartCli(["predict", model, ...files]);
  return Object.fromEntries(rows.map((row) => [basename(row.file), classes.map((name) => row.probabilities[name])]));
}

/** How two sets of probabilities by file differ: the largest difference, the files whose most
 * probable class differs, and those of them where `a` was torn (its two most probable classes
 * within 0.1). */
function differences(a, b) {
  let largest = 0;
  const [otherClass, torn] = [[], []];
  for (const [file, probabilities] of Object.entries(a)) {
    const top = (p) => p.indexOf(Math.max(...p));
    const [first, second] = [...probabilities].sort((x, y) => y - x);
    if (top(probabilities) !== top(b[file])) (first - second < 0.1 ? torn : otherClass).push(file);
    probabilities.forEach((p, i) => (largest = Math.max(largest, Math.abs(p - b[file][i]))));
  }
  return { largest, otherClass, torn };
}

test("models travel between the command line and the page both ways and classify alike", { timeout: TEST_MS }, async () => {
  const queries = (await Promise.all(classes.map((name) => photos(heldOutDir, name)))).flat();
  // The command line trains a fine-tuned model; the page imports it.
  await mkdir(artifactsDir, { recursive: true });
  const cliModel = join(artifactsDir, "cli-finetune.hsm");
  const trained = await headstartCli(["train", "www/samples", "-o", cliModel, "--way", "finetune", "--epochs", "8"]);
  assert.equal(trained.training.way, "finetune");
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await waitForReady(page);
  await page.getByTestId("import-model").setInputFiles(cliModel);
  await page.getByTestId("model-info").waitFor();
  assert.equal(await page.getByTestId("model-info").getAttribute("data-way"), "finetune");
  const cliToPage = differences(await cliProbabilities(cliModel, queries), await pageProbabilities(page, queries));

  // The page trains a head; the command line evaluates and predicts with its file.
  await page.getByTestId("load-samples").click();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  await trainAndWait(page);
  await page.getByTestId("clear-predictions").click();
  const inPage = await pageProbabilities(page, queries);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-model").click()]);
  const pageModel = join(artifactsDir, "page-frozen.hsm");
  await download.saveAs(pageModel);
  const pageToCli = differences(inPage, await cliProbabilities(pageModel, queries));
  const evaluated = await headstartCli(["eval", pageModel, "tests/photos/held-out"]);
  assert.equal(evaluated.photos, queries.length);
  assert.equal(evaluated.way, "frozen");
  console.log("command line vs page:", JSON.stringify({ cliToPage, pageToCli, cliHeldOutAccuracy: evaluated.accuracy }));
  // The page decodes with the browser's canvas, the command line with the image crate, so the
  // same model gives close probabilities, not equal ones: the same class for every photo but
  // those the model is torn about.
  for (const compared of [cliToPage, pageToCli]) {
    assert.ok(compared.largest < 0.1, JSON.stringify(compared));
    assert.deepEqual(compared.otherClass, [], JSON.stringify(compared));
  }
  assert.deepEqual(consoleErrors, []);
});

test("the command line embeds the page's model inputs exactly as the page did, and whole photos nearly so", { timeout: TEST_MS }, async () => {
  const files = await photos(heldOutDir, "bird");
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await waitForReady(page);
  await page.getByTestId("class-card").nth(0).getByTestId("class-upload").setInputFiles(files);
  await waitForCounts(page, [`${files.length} photos`, "0 photos"]);
  // What the page keeps of each photo: its model input (a PNG) and its embedding.
  await page.waitForFunction((n) => new Promise((resolve) => {
    const open = indexedDB.open("headstart");
    open.onsuccess = () => {
      const count = open.result.transaction("photos").objectStore("photos").count();
      count.onsuccess = () => resolve(count.result === n);
    };
  }), files.length);
  const kept = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const open = indexedDB.open("headstart");
        open.onsuccess = () => {
          const all = open.result.transaction("photos").objectStore("photos").getAll();
          // Images are kept as { bytes, type } (WebKit refuses blobs in IndexedDB).
          all.onsuccess = () => resolve(all.result.map((p) => ({ file: p.fileName, embedding: [...p.embedding], input: [...new Uint8Array(p.input.bytes)] })));
        };
      }),
  );
  const dir = join(artifactsDir, "model-inputs");
  await mkdir(dir, { recursive: true });
  const inputs = [];
  for (const photo of kept) {
    inputs.push(join(dir, photo.file));
    await writeFile(inputs.at(-1), Buffer.from(photo.input));
  }
  const byFile = (rows) => Object.fromEntries(rows.map((row) => [basename(row.file), row.embedding]));
  const exact = byFile(await headstartCli(["embed", "--model-inputs", ...inputs]));
  const whole = byFile(await headstartCli(["embed", ...files]));
  const largest = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  const cosine = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
  const figures = kept.map((photo) => ({
    file: photo.file,
    sameInput: largest(photo.embedding, exact[photo.file]),
    wholePhoto: largest(photo.embedding, whole[photo.file]),
    wholePhotoCosine: cosine(photo.embedding, whole[photo.file]),
  }));
  console.log("page vs command line embeddings:", JSON.stringify(figures));
  for (const f of figures) {
    // The same 224x224 input: the same network and weights in wasm and natively.
    assert.ok(f.sameInput < 1e-4, JSON.stringify(f));
    // The whole photo: the browser's canvas and the image crate resize differently.
    assert.ok(f.wholePhotoCosine > 0.95, JSON.stringify(f));
  }
  assert.deepEqual(consoleErrors, []);
});
