// The page's thread stays free while the model works in its workers: no long task while photos
// are embedded, a head trains and photos are classified; Stop ends a run and keeps the photos;
// a retrain during classification never mislabels a prediction; a message to a worker is cheap;
// the pool keeps a worker only if it makes embedding faster.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { cpus } from "node:os";
import { servePageInBrowser, openPage, screenshot, repoRoot, artifactsDir, photos, waitForCounts } from "./harness.mjs";

const WAIT_MS = 300_000;
const classes = ["bird", "flower", "fruit"];
const session = servePageInBrowser();

async function waitForTraining(page) {
  await page.waitForFunction(
    () => !["idle", "preparing", "running"].includes(document.querySelector('[data-testid="train-status"]').dataset.state),
    null,
    { timeout: WAIT_MS },
  );
  return page.getByTestId("train-status").getAttribute("data-state");
}

/** Opens the page and fills its classes with the built-in sample photos. */
async function openWithSamples() {
  const opened = await openPage(session.browser, session.server.origin);
  await opened.page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await opened.page.getByTestId("load-samples").click();
  await waitForCounts(opened.page, ["5 photos", "5 photos", "5 photos"]);
  return opened;
}

/** Sets the next run's epochs as a student would: type, then leave the field. */
async function setEpochs(page, epochs) {
  await page.getByTestId("epochs").fill(String(epochs));
  await page.getByTestId("epochs").press("Tab");
}

async function nameClasses(page) {
  const cards = page.getByTestId("class-card");
  if ((await cards.count()) < classes.length) await page.getByTestId("add-class").click();
  for (const [i, name] of classes.entries()) await cards.nth(i).getByTestId("class-name").fill(name);
  return cards;
}

/** Records every long task (>= 50 ms) of the page's thread, from before the page's own code runs. */
const recordLongTasks = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
};

/**
 * The page's main-thread tasks in a Chromium trace that began between the page's
 * `performance.mark(fromMark)` and `performance.mark(toMark)`: wall time and the thread's own CPU
 * time. Tracing itself costs the page's thread a task when it starts and when it is collected;
 * those lie outside the marks.
 */
function mainThreadTasks(trace, fromMark, toMark) {
  const events = JSON.parse(trace.toString()).traceEvents;
  const main = new Set(events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`));
  const markTime = (name) => {
    const markEvent = events.find((e) => e.name === name && main.has(`${e.pid}:${e.tid}`));
    assert.ok(markEvent, `the trace holds the page's mark ${name}`);
    return markEvent.ts;
  };
  const [from, to] = [markTime(fromMark), markTime(toMark)];
  return events
    .filter((e) => e.ph === "X" && e.name === "RunTask" && main.has(`${e.pid}:${e.tid}`) && e.ts >= from && e.ts <= to)
    .map((e) => ({ wallMs: e.dur / 1000, cpuMs: (e.tdur ?? e.dur) / 1000 }));
}

test("the page's thread has no long task while 30 photos embed, a head trains and 15 photos are classified", { timeout: WAIT_MS * 3 }, async () => {
  const page = await session.browser.newPage({ viewport: { width: 1200, height: 1000 } });
  await page.addInitScript(recordLongTasks);
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const workers = Number(await page.getByTestId("backend").getAttribute("data-workers"));
  await session.browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing"] });
  const mark = () => page.evaluate(() => performance.now());
  const longestSince = (since) =>
    page.evaluate((t) => Math.max(0, ...window.__longTasks.filter((e) => e.start >= t).map((e) => e.duration)), since);

  const cards = await nameClasses(page);
  const embedStart = await page.evaluate(() => performance.mark("measured-from").startTime);
  for (const [i, name] of classes.entries()) {
    await cards.nth(i).getByTestId("class-upload").setInputFiles([...(await photos("www/samples", name)), ...(await photos("tests/photos/held-out", name))]);
  }
  await waitForCounts(page, ["10 photos", "10 photos", "10 photos"]);
  const trainStart = await mark();
  const embedMs = trainStart - embedStart;
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  const classifyStart = await mark();
  const trainMs = classifyStart - trainStart;
  const queries = [];
  for (const name of classes) queries.push(...(await photos("www/samples", name)));
  await page.getByTestId("predict-upload").setInputFiles(queries);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="prediction"]').length === n && !document.querySelector('[data-testid="pending-photos"]'), queries.length, { timeout: WAIT_MS });
  const end = await page.evaluate(() => performance.mark("measured-to").startTime);
  const tasks = mainThreadTasks(await session.browser.stopTracing(), "measured-from", "measured-to");

  const longest = {
    embedding: await longestSince(embedStart),
    training: await page.evaluate(([a, b]) => Math.max(0, ...window.__longTasks.filter((e) => e.start >= a && e.start < b).map((e) => e.duration)), [trainStart, classifyStart]),
    classifying: await longestSince(classifyStart),
  };
  const longestTraced = {
    wallMs: Math.max(0, ...tasks.map((t) => t.wallMs)),
    cpuMs: Math.max(0, ...tasks.map((t) => t.cpuMs)),
  };
  const figures = {
    workers,
    embedMs,
    photosPerSecond: 30 / (embedMs / 1000),
    trainMs,
    classifyMs: end - classifyStart,
    longestTaskMs: longest,
    longTasks: await page.evaluate(() => window.__longTasks),
    tracedTasks: tasks.length,
    longestTracedTaskMs: longestTraced,
  };
  console.log("responsiveness:", JSON.stringify(figures));
  await mkdir(artifactsDir, { recursive: true });
  await writeFile(join(artifactsDir, "responsiveness.json"), JSON.stringify(figures, null, 2));
  await screenshot(page, "responsiveness");
  // No task of the page's thread may keep it busy for 50 ms or more from the first upload to the
  // last prediction.
  // The Long Tasks API (reported above) measures wall time, and on this 2-core VM a task that
  // used 9 ms of CPU sometimes took 66 ms of wall time, its thread waiting for a core while the
  // training worker and the browser's other processes ran; so the bound applies to each task's
  // own CPU time, from a trace of the page's main thread. A CI run once counted a 61 ms task
  // (303 ms of wall time) that the Long Tasks API never saw, most likely tracing's own work
  // when it starts or is collected; the marks leave those out.
  assert.ok(tasks.length > 100, `the trace holds the page's tasks (${tasks.length})`);
  const busy = tasks.filter((t) => t.cpuMs >= 50);
  assert.deepEqual(busy, [], `tasks that kept the page's thread busy: ${JSON.stringify(busy)}`);
  assert.deepEqual(errors, []);
});

test("Stop ends a training run, keeps what was trained and the photos, and the page goes on", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openWithSamples();
  await setEpochs(page, 5000);
  await page.getByTestId("train").click();
  // Wait until a few epochs have run, then stop.
  await page.waitForFunction(() => /Epoch ([5-9]|\d\d+) of 5,000/.test(document.querySelector('[data-testid="train-status"]').textContent), null, { timeout: WAIT_MS });
  await page.getByTestId("stop-training").click();
  assert.equal(await waitForTraining(page), "done");
  const status = page.getByTestId("train-status");
  assert.equal(await status.getAttribute("data-stopped-early"), "true");
  const stoppedAt = (await status.textContent()).match(/Stopped after epoch (\d+) of 5,000; kept the model/);
  assert.ok(stoppedAt, await status.textContent());
  // The learning curves show every epoch that ran, and no more.
  assert.equal(await page.getByTestId("curves").getAttribute("data-epochs"), stoppedAt[1]);
  assert.deepEqual(await page.getByTestId("class-count").allTextContents(), ["5 photos", "5 photos", "5 photos"]);
  assert.equal(await page.getByTestId("model-info").getAttribute("data-version"), "1");

  // The page is usable: the stopped model classifies, and a full run trains again.
  await page.getByTestId("predict-upload").setInputFiles([join(repoRoot, "tests/photos/held-out/bird", (await readdir(join(repoRoot, "tests/photos/held-out/bird")))[0])]);
  await page.getByTestId("prediction").waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByTestId("prediction").getAttribute("data-model-version"), "1");
  await setEpochs(page, 40);
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  assert.equal(await status.getAttribute("data-stopped-early"), "false");
  assert.equal(await page.getByTestId("model-info").getAttribute("data-version"), "2");
  assert.equal(await page.getByTestId("curves").getAttribute("data-epochs"), "40");

  // On a phone-sized screen nothing sticks out sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, "horizontal overflow at 390 px");
  await screenshot(page, "stopped-then-retrained-phone");
  assert.deepEqual(consoleErrors, []);
});

test("retraining with a renamed class while photos are classified never mislabels a prediction", { timeout: WAIT_MS * 2 }, async () => {
  const { page, consoleErrors } = await openWithSamples();
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  const classesOf = {};
  classesOf[await page.getByTestId("model-info").getAttribute("data-version")] = await page.getByTestId("model-info").getAttribute("data-classes");

  const heldOut = [];
  for (const name of classes) heldOut.push(...(await photos("tests/photos/held-out", name)));
  await page.getByTestId("predict-upload").setInputFiles(heldOut);
  // While that batch is classified: rename a class and train again, then classify with the new model.
  await page.getByTestId("class-card").nth(2).getByTestId("class-name").fill("fruits");
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  classesOf[await page.getByTestId("model-info").getAttribute("data-version")] = await page.getByTestId("model-info").getAttribute("data-classes");
  await page.getByTestId("predict-upload").setInputFiles(heldOut.slice(0, 3));
  const total = heldOut.length + 3;
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="prediction"]').length === n, total, { timeout: WAIT_MS });

  assert.deepEqual(classesOf, { 1: "bird\nflower\nfruit", 2: "bird\nflower\nfruits" });
  const shown = await page.getByTestId("prediction").evaluateAll((nodes) =>
    nodes.map((n) => ({ version: n.dataset.modelVersion, label: n.dataset.label, bars: [...n.querySelectorAll(".bar-name")].map((b) => b.textContent).join("\n") })),
  );
  const versions = shown.map((p) => p.version);
  assert.ok(versions.includes("1") && versions.includes("2"), `both models classified: ${versions}`);
  for (const prediction of shown) {
    assert.equal(prediction.bars, classesOf[prediction.version], JSON.stringify(prediction));
    assert.ok(classesOf[prediction.version].split("\n").includes(prediction.label), JSON.stringify(prediction));
  }
  assert.deepEqual(consoleErrors, []);
});

test("a message to a model worker and back stays cheap (static constructors run once)", { timeout: WAIT_MS }, async () => {
  const { page } = await openPage(session.browser, session.server.origin, "?check=messages");
  const check = page.getByTestId("message-check");
  await page.waitForFunction(() => document.querySelector('[data-testid="message-check"]')?.dataset.state === "done", null, { timeout: WAIT_MS });
  const median = Number(await check.getAttribute("data-median-ms"));
  const max = Number(await check.getAttribute("data-max-ms"));
  console.log("message round trip:", JSON.stringify({ median, max, count: Number(await check.getAttribute("data-count")) }));
  // Measured here: 0.1 ms with the constructors run once; 4.6 ms when they re-run on every call
  // from JavaScript (the start function's __wasm_call_ctors call removed).
  assert.ok(median < 1.5, `median round trip ${median} ms`);
});

test("the settings panel's values reach training, and reset restores the defaults", { timeout: WAIT_MS }, async () => {
  const { page, consoleErrors } = await openWithSamples();
  await page.getByTestId("settings").locator("summary").click();
  const setting = (name) => page.getByTestId("settings").locator(`[name="${name}"]`);
  await setting("test_fraction").fill("0.4");
  await setting("test_fraction").press("Tab");
  await page.getByTestId("optimizer").selectOption("sgd");
  await setting("momentum").waitFor();
  await setting("learning_rate").fill("0.05");
  await setting("learning_rate").press("Tab");
  await page.getByTestId("balance-classes").uncheck();
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  // 5 photos per class, 40% to the test (2 of each class), the other 3 validate in 3 rounds.
  assert.match(await page.getByTestId("train-status").textContent(), /on 9 photos \(each took a turn at validation, in 3 rounds\)/);
  assert.equal(Number(await page.getByTestId("train-status").getAttribute("data-train-accuracy")), 1);

  await page.getByTestId("reset-settings").click();
  assert.equal(await setting("test_fraction").inputValue(), "0.2");
  assert.equal(await page.getByTestId("optimizer").inputValue(), "adam");
  assert.equal(await setting("momentum").count(), 0, "momentum belongs to SGD only");
  assert.equal(await page.getByTestId("balance-classes").isChecked(), true);
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  assert.match(await page.getByTestId("train-status").textContent(), /on 12 photos \(each took a turn at validation, in 4 rounds\)/);
  assert.deepEqual(consoleErrors, []);
});

test("one photo a class trains, says its accuracy cannot be measured yet, and keeps nothing for the final test", { timeout: WAIT_MS }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const cards = await nameClasses(page);
  for (const [i, name] of classes.entries()) await cards.nth(i).getByTestId("class-upload").setInputFiles((await photos("www/samples", name)).slice(0, 1));
  await waitForCounts(page, ["1 photo", "1 photo", "1 photo"]);
  const splits = await page.getByTestId("class-split").evaluateAll((nodes) => nodes.map((n) => [n.dataset.train, n.dataset.validation, n.dataset.test].map(Number)));
  assert.deepEqual(splits, [[1, 0, 0], [1, 0, 0], [1, 0, 0]]);
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  const status = page.getByTestId("train-status");
  assert.match(await status.textContent(), /on 3 photos \(none held back for validation\).*cannot be measured yet/);
  assert.equal(await status.getAttribute("data-validation-accuracy"), null);
  assert.equal(Number(await status.getAttribute("data-train-accuracy")), 1);
  // Nothing was kept for the final test, so it cannot run, and it says so.
  assert.ok(await page.getByTestId("final-test").isDisabled());
  await page.getByTestId("final-test-why").waitFor();
  assert.deepEqual(consoleErrors, []);
});

test("early stopping ends a run once validation loss stops improving and keeps the best epoch", { timeout: WAIT_MS }, async () => {
  const { page, consoleErrors } = await openWithSamples();
  await setEpochs(page, 300);
  await page.getByTestId("settings").locator("summary").click();
  await page.getByTestId("settings").locator('[name="patience"]').fill("3");
  await page.getByTestId("settings").locator('[name="patience"]').press("Tab");
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  const curves = page.getByTestId("curves");
  const stopped = Number(await curves.getAttribute("data-stopped-epoch"));
  const best = Number(await curves.getAttribute("data-best-epoch"));
  console.log("early stopping:", JSON.stringify({ stopped, best }));
  assert.ok(stopped < 300, `stopped at ${stopped}`);
  assert.equal(Number(await curves.getAttribute("data-epochs")), stopped);
  assert.equal(best, stopped - 3);
  assert.match(await page.getByTestId("train-status").textContent(), new RegExp(`lowest at epoch ${best}, so the model keeps`));
  assert.deepEqual(consoleErrors, []);
});

test("a model worker that crashes is replaced: its photos are still added and the page goes on", { timeout: WAIT_MS }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin, "?workers=2&test-hooks");
  await page.waitForFunction(() => document.querySelector('[data-testid="backend"]')?.dataset.workers === "2", null, { timeout: WAIT_MS });
  const cards = await nameClasses(page);
  await cards.nth(0).getByTestId("class-upload").setInputFiles([...(await photos("www/samples", "bird")), ...(await photos("tests/photos/held-out", "bird"))]);
  await cards.nth(1).getByTestId("class-upload").setInputFiles([...(await photos("www/samples", "flower")), ...(await photos("tests/photos/held-out", "flower"))]);
  // The second worker dies while it holds photo jobs.
  await page.evaluate(() => window.headstartCrashWorker(1));
  await waitForCounts(page, ["10 photos", "10 photos", "0 photos"]);
  assert.equal(await page.getByTestId("fatal-error").count(), 0);
  assert.equal(await page.getByTestId("notices").count(), 0, "no photo was lost");
  await page.waitForFunction(() => document.querySelector('[data-testid="backend"]').dataset.workers === "2", null, { timeout: WAIT_MS });
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");

  // The training worker dies; Train pressed while its replacement loads still trains.
  await page.evaluate(() => window.headstartCrashWorker(0));
  await page.waitForFunction(() => document.querySelector('[data-testid="backend"]').dataset.workers === "1", null, { timeout: WAIT_MS });
  await page.getByTestId("train").click();
  assert.equal(await waitForTraining(page), "done");
  assert.equal(await page.getByTestId("model-info").getAttribute("data-version"), "2");
  // The crash shows in the console (the panic and the worker's uncaught error), nothing else.
  assert.ok(consoleErrors.length > 0 && consoleErrors.every((e) => /crash|stopped|unreachable|RuntimeError|panicked/i.test(e)), JSON.stringify(consoleErrors));
});

test("a panic in the page shows one banner that says what happened and what to do, and a reload brings the work back", { timeout: WAIT_MS }, async () => {
  const { page, consoleErrors } = await openPage(session.browser, session.server.origin, "?test-hooks");
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await page.getByTestId("load-samples").click();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  // Every photo's save has landed.
  const savedPhotos = () =>
    new Promise((resolve, reject) => {
      const open = indexedDB.open("headstart");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const count = open.result.transaction("photos").objectStore("photos").count();
        count.onsuccess = () => resolve(count.result);
      };
    });
  for (let tries = 0; (await page.evaluate(savedPhotos)) < 15; tries++) {
    assert.ok(tries < 600, "the photos were saved");
    await page.waitForTimeout(200);
  }
  for (let i = 0; i < 2; i++) await page.evaluate(() => window.headstartPanicPage()).catch(() => {});
  const banner = page.getByTestId("fatal-error");
  assert.equal(await banner.count(), 1, "one banner, however many panics");
  assert.equal(await banner.getAttribute("role"), "alert");
  assert.match(await banner.textContent(), /internal error.*Nothing was sent anywhere.*Reload the page.*work.*comes back/s);
  assert.ok(consoleErrors.some((e) => /a test asked the page to panic/.test(e)), JSON.stringify(consoleErrors));
  await page.reload();
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  assert.equal(await page.getByTestId("fatal-error").count(), 0);
});

test("the pool keeps a worker only if it makes embedding faster: told of more cores than there are, it stops at what helps", { timeout: WAIT_MS }, async () => {
  const cores = cpus().length;
  // WebKit reports 4 on this 2-core machine; Chromium is made to say the same.
  const page = await session.browser.newPage({ viewport: { width: 1200, height: 1000 } });
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, "hardwareConcurrency", { get: () => 4 }));
  const errors = [];
  const ended = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
    if (/ended, as it made embedding no faster/.test(message.text())) ended.push(message.text());
  });
  await page.goto(session.server.origin);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  // Photos added while the pool times itself are embedded all the same.
  await page.getByTestId("load-samples").click();
  await waitForCounts(page, ["5 photos", "5 photos", "5 photos"]);
  if (cores >= 4) {
    console.log(`skipped: ${cores} cores, as many as the page is told of`);
    return;
  }
  for (let waited = 0; ended.length === 0 && waited < 60_000; waited += 200) await page.waitForTimeout(200);
  const workers = Number(await page.getByTestId("backend").getAttribute("data-workers"));
  console.log("pool sizing:", JSON.stringify({ cores, reported: 4, workers, ended }));
  assert.equal(ended.length, 1, "one worker was ended for not making embedding faster");
  const rates = ended[0].split(": ").pop().split(", ").map(Number);
  assert.equal(rates.length, workers + 1, "each round's photos a second, the ended worker's last");
  assert.equal(workers, cores, `on ${cores} cores the pool keeps ${cores} workers`);
  assert.ok(rates.at(-1) < rates.at(-2) * 1.15, `${rates}`);
  assert.equal(await page.getByTestId("backend").textContent(), `CPU · ${cores} worker${cores === 1 ? "" : "s"}`);
  assert.deepEqual(errors, []);
  await page.close();
});
