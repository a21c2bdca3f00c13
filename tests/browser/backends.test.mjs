// WebGPU and the CPU give the same numbers on the same real photo. On a machine whose only
// adapter is software (SwiftShader here) this still runs, slowly; with no adapter at all it is
// reported as skipped, never silently passed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { servePageInBrowser, launchBrowser, openPage, screenshot, repoRoot } from "./harness.mjs";

const CHECK_MS = 300_000;
const photo = (name) => join(repoRoot, "www", "samples", name);
const session = servePageInBrowser();

test("WebGPU and CPU agree on a real photo's embedding and on a head's predictions", { timeout: CHECK_MS + 60_000 }, async (t) => {
  const { page } = await openPage(session.browser, session.server.origin, "?check=backends");
  const check = page.getByTestId("backend-check");
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="fatal-error"]') ||
      ["done", "skipped", "error"].includes(document.querySelector('[data-testid="backend-check"]')?.dataset.state),
    null,
    { timeout: CHECK_MS },
  );
  const fatal = page.getByTestId("fatal-error");
  assert.equal(await fatal.count(), 0, (await fatal.count()) ? await fatal.textContent() : "");
  const state = await check.getAttribute("data-state");
  const text = await check.textContent();
  console.log("backend check:", text);
  await screenshot(page, "backend-check");
  if (state === "skipped") {
    t.skip(`no WebGPU adapter: ${text}`);
    return;
  }
  assert.equal(state, "done", text);
  assert.ok(Number(await check.getAttribute("data-embedding-difference")) < 1e-3, text);
  assert.ok(Number(await check.getAttribute("data-probability-difference")) < 1e-4, text);
  assert.equal(await check.getAttribute("data-same-predictions"), "true");
});

// The page's whole flow on its WebGPU path (forced onto the software adapter, so kept small):
// start-up GPU-versus-CPU probe, embedding, training with autodiff and classification on the GPU
// must give the labels the CPU path gives.
test("the page's WebGPU path trains and classifies like its CPU path", { timeout: CHECK_MS + 60_000 }, async (t) => {
  const trainSet = { bird: ["bird/crow.png", "bird/owl.png"], fruit: ["fruit/lemon.png", "fruit/kiwi.png"] };
  const queries = [photo("bird/duck.png"), photo("fruit/grapes.png")];
  const labelsOn = async (query) => {
    const { page, consoleErrors } = await openPage(session.browser, session.server.origin, query);
    await page.getByTestId("ready").waitFor({ timeout: CHECK_MS });
    const backend = await page.getByTestId("backend").getAttribute("data-path");
    const cards = page.getByTestId("class-card");
    for (const [i, [name, files]] of Object.entries(trainSet).entries()) {
      await cards.nth(i).getByTestId("class-name").fill(name);
      await cards.nth(i).getByTestId("class-name").press("Enter");
      await cards.nth(i).getByTestId("class-upload").setInputFiles(files.map(photo));
    }
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="class-count"]')].map((e) => e.textContent).join() === "2 photos,2 photos",
      null,
      { timeout: CHECK_MS },
    );
    await page.getByTestId("train").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state !== "running" &&
      document.querySelector('[data-testid="train-status"]').dataset.state !== "idle", null, { timeout: CHECK_MS });
    assert.equal(await page.getByTestId("train-status").getAttribute("data-state"), "done");
    await page.getByTestId("predict-upload").setInputFiles(queries);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="prediction"]').length === 2, null, { timeout: CHECK_MS });
    const predictions = await page.getByTestId("prediction").evaluateAll((nodes) =>
      Object.fromEntries(nodes.map((n) => [n.dataset.file, [n.dataset.label, Number(n.dataset.confidence)]])),
    );
    assert.deepEqual(consoleErrors, []);
    return { backend, predictions };
  };
  const gpu = await labelsOn("?compute=webgpu");
  if (gpu.backend !== "WebGPU") {
    t.skip(`no usable WebGPU adapter; the page chose ${gpu.backend}`);
    return;
  }
  const cpu = await labelsOn("?compute=cpu");
  console.log("WebGPU path:", JSON.stringify(gpu), "CPU path:", JSON.stringify(cpu));
  assert.equal(cpu.backend, "CPU");
  for (const [file, [label, confidence]] of Object.entries(cpu.predictions)) {
    assert.equal(gpu.predictions[file][0], label, file);
    assert.ok(Math.abs(gpu.predictions[file][1] - confidence) < 1e-3, `${file}: ${gpu.predictions[file][1]} vs ${confidence}`);
  }
});

// Where WebGPU cannot start, the page says so on the badge and runs on the CPU.
test("without WebGPU the page falls back to the CPU and says why", async () => {
  const plain = await launchBrowser({ webgpu: false });
  try {
    const { page } = await openPage(plain, session.server.origin, "?compute=webgpu");
    await page.getByTestId("ready").waitFor({ timeout: CHECK_MS });
    const badge = page.getByTestId("backend");
    assert.equal(await badge.getAttribute("data-path"), "CPU");
    assert.match(await badge.textContent(), /^CPU · \d+ workers?$/);
    assert.match(await badge.getAttribute("title"), /WebGPU/);
  } finally {
    await plain.close();
  }
});

/** The page on WebGPU with its test hooks and two classes of two photos, or nothing (the test
 * skipped) where the browser offers no usable adapter. `counts(want)` waits for the classes'
 * counts, joined by commas, with no photo pending. */
async function openOnWebGpuWithPhotos(t) {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin, "?compute=webgpu&test-hooks");
  await page.getByTestId("ready").waitFor({ timeout: CHECK_MS });
  if ((await page.getByTestId("backend").getAttribute("data-path")) !== "WebGPU") {
    t.skip("no usable WebGPU adapter");
    return null;
  }
  const cards = page.getByTestId("class-card");
  await cards.nth(0).getByTestId("class-upload").setInputFiles([photo("bird/crow.png"), photo("bird/owl.png")]);
  await cards.nth(1).getByTestId("class-upload").setInputFiles([photo("fruit/lemon.png"), photo("fruit/kiwi.png")]);
  const counts = (want) =>
    page.waitForFunction((want) => [...document.querySelectorAll('[data-testid="class-count"]')].map((e) => e.textContent).join() === want && !document.querySelector('[data-testid="pending-photos"]'), want, { timeout: CHECK_MS });
  await counts("2 photos,2 photos");
  return { page, consoleErrors, cards, counts };
}

// A WebGPU device the browser loses while photos are being embedded (destroyed here from the
// worker's test hook, as a driver reset would take it): the worker ends, the page goes on on
// the CPU path, every photo is still added, and the model trained before stays and classifies
// as before.
test("a WebGPU device lost mid-embedding: the photos are still added on the CPU and the model stays", { timeout: CHECK_MS + 60_000 }, async (t) => {
  const opened = await openOnWebGpuWithPhotos(t);
  if (!opened) return;
  const { page, consoleErrors, cards, counts } = opened;
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: CHECK_MS });
  const labels = async () => {
    await page.getByTestId("predict-upload").setInputFiles([photo("bird/duck.png"), photo("fruit/grapes.png")]);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="prediction"]').length === 2, null, { timeout: CHECK_MS });
    const found = await page.getByTestId("prediction").evaluateAll((nodes) => nodes.map((n) => [n.dataset.file, n.dataset.label, Number(n.dataset.confidence), n.dataset.modelVersion]).sort());
    await page.getByTestId("clear-predictions").click();
    return found;
  };
  const before = await labels();

  await cards.nth(0).getByTestId("class-upload").setInputFiles(["hen.png", "pigeon.png", "duck.png"].map((f) => photo(`bird/${f}`)));
  await page.workers()[0].evaluate(() => self.headstartLoseDevice());
  await counts("5 photos,2 photos");
  await page.waitForFunction(() => document.querySelector('[data-testid="backend"]').dataset.path === "CPU", null, { timeout: CHECK_MS });
  const after = await labels();
  const badge = await page.getByTestId("backend").getAttribute("title");
  const notices = await page.getByTestId("notices").textContent();
  console.log("device lost:", JSON.stringify({ before, after, badge, notices }));
  assert.match(badge, /WebGPU stopped working/);
  assert.match(notices, /graphics processor stopped working.*Nothing was lost/);
  for (const [i, [file, label, confidence, version]] of before.entries()) {
    assert.deepEqual([after[i][0], after[i][1], after[i][3]], [file, label, version]);
    assert.ok(Math.abs(after[i][2] - confidence) < 1e-3, `${file}: ${after[i][2]} vs ${confidence}`);
  }
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: CHECK_MS });
  assert.ok(consoleErrors.length > 0 && consoleErrors.every((e) => /WebGPU device was lost|stopped|mapAsync|destroyed|Instance dropped/i.test(e)), JSON.stringify(consoleErrors));
});

// The same loss while a network trains on the GPU (fine-tuning, long enough to be caught
// mid-run): the run stops with a message, the model trained before stays the model in use and
// classifies, and the next run trains on the CPU.
test("a WebGPU device lost mid-training: the run stops with a message, the last model stays, the CPU trains next", { timeout: CHECK_MS * 2 }, async (t) => {
  const opened = await openOnWebGpuWithPhotos(t);
  if (!opened) return;
  const { page, consoleErrors } = opened;
  const state = () => page.getByTestId("train-status").getAttribute("data-state");
  const train = async (way, epochs) => {
    await page.getByTestId("train-mode").selectOption(way);
    await page.getByTestId("epochs").fill(String(epochs));
    await page.getByTestId("epochs").press("Tab");
    await page.getByTestId("train").click();
  };
  await train("frozen", 20);
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: CHECK_MS });
  const model = () => page.getByTestId("model-info").evaluate((n) => [n.dataset.version, n.dataset.way]);
  const lastGood = await model();

  await train("finetune", 200);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="curves"]')?.dataset.epochs) >= 1, null, { timeout: CHECK_MS });
  assert.equal(await state(), "running");
  await page.workers()[0].evaluate(() => self.headstartLoseDevice());
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "error", null, { timeout: CHECK_MS });
  const said = await page.getByTestId("train-status").textContent();
  await page.waitForFunction(() => document.querySelector('[data-testid="backend"]').dataset.path === "CPU", null, { timeout: CHECK_MS });
  console.log("device lost while training:", JSON.stringify({ said, lastGood, now: await model() }));
  assert.deepEqual(await model(), lastGood);
  await page.getByTestId("predict-upload").setInputFiles([photo("bird/duck.png")]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="prediction"]').length === 1, null, { timeout: CHECK_MS });
  assert.equal(await page.getByTestId("prediction").getAttribute("data-model-version"), lastGood[0]);
  await train("finetune", 2);
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: CHECK_MS });
  assert.deepEqual((await model())[1], "finetune");
  assert.ok(consoleErrors.every((e) => /WebGPU device was lost|stopped|mapAsync|destroyed|poisoned|training failed/i.test(e)), JSON.stringify(consoleErrors));
});
