// The page in Safari's engine, as on every iPad: Debian's WebKitGTK (MiniBrowser under Xvfb,
// driven over WebDriver). Its automation session keeps data like a private window, where
// IndexedDB refuses Blobs: the work must be saved there all the same. The student's flow on the
// CPU path (this WebKit has no WebGPU), a reload that brings everything back, a model file and a
// project file out and in, the offline copy where this WebKit serves service workers, and a photo
// its camera marked as turned drawn upright.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { mkdtemp, writeFile, mkdir } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { serveDist, photos, artifactsDir, withByteChanged } from "./harness.mjs";
import { withExifOrientation } from "./corpus.mjs";
import { launchWebKit, webkitInstalled } from "./webdriver.mjs";

const WAIT_MS = 300_000;
const classes = ["bird", "flower", "fruit"];
const session = {};

before(async () => {
  if (!(await webkitInstalled())) throw new Error("WebKitGTK's WebKitWebDriver and MiniBrowser are missing: run scripts/setup.sh");
  session.server = await serveDist();
  session.browser = await launchWebKit();
  session.files = await mkdtemp(join(tmpdir(), "headstart-webkit-"));
});
after(async () => {
  await session.browser?.close();
  await session.server?.close();
});

const counts = (browser) => browser.run(() => [...document.querySelectorAll('[data-testid="class-count"]')].map((n) => n.textContent));
const notices = (browser) => browser.run(() => document.querySelector('[data-testid="notices"]')?.textContent ?? "");

/** Opens the page (or reloads it) and waits until the model is ready; errors the page throws
 * from then on are kept in `window.__errors`. */
async function openReady(browser, url) {
  await (url ? browser.navigate(url) : browser.reload());
  await browser.waitFor(() => document.querySelector('[data-testid="ready"]'), { what: "the model to be ready" });
  await browser.run(() => {
    window.__errors = [];
    window.addEventListener("error", (e) => window.__errors.push(String(e.message)));
    window.addEventListener("unhandledrejection", (e) => window.__errors.push(String(e.reason)));
  });
}

async function waitForCounts(browser, expected) {
  await browser.waitFor(
    (want) => JSON.stringify([...document.querySelectorAll('[data-testid="class-count"]')].map((e) => e.textContent)) === want && !document.querySelector('[data-testid="pending-photos"]'),
    { args: [JSON.stringify(expected)], what: `counts ${expected}` },
  );
}

/** Classifies the held-out photos; returns each file's probabilities, by file name. */
async function classify(browser, files) {
  await browser.upload("predict-upload", files);
  await browser.waitFor((n) => document.querySelectorAll('[data-testid="prediction"]').length === n, { args: [files.length], what: "predictions" });
  return browser.run(() =>
    Object.fromEntries([...document.querySelectorAll('[data-testid="prediction"]')].map((n) => [n.dataset.file, { label: n.dataset.label, p: [...n.querySelectorAll("meter")].map((m) => Number(m.value)) }])),
  );
}

const heldOut = async () => {
  const all = [];
  for (const name of classes) for (const file of await photos("tests/photos/held-out", name)) all.push({ file, name });
  return all;
};

test("in WebKit a student trains on uploaded photos, classifies held-out ones, and a reload brings everything back", { timeout: WAIT_MS * 3 }, async () => {
  const { browser, server } = session;
  const started = Date.now();
  await openReady(browser, `${server.origin}/`);
  const readyMs = Date.now() - started;
  const capabilities = await browser.run(() => ({
    webgpu: "gpu" in navigator,
    serviceWorker: "serviceWorker" in navigator,
    offscreenCanvas: typeof OffscreenCanvas === "function",
    camera: Boolean(navigator.mediaDevices?.getUserMedia),
    cores: navigator.hardwareConcurrency,
    backend: document.querySelector('[data-testid="backend"]')?.textContent,
  }));
  assert.equal(await browser.run(() => document.querySelector('[data-testid="backend"]').dataset.path), "CPU");

  await browser.click("add-class");
  const cards = await browser.byTestId("class-card");
  assert.equal(cards.length, 3);
  const uploadStarted = Date.now();
  for (const [i, name] of classes.entries()) {
    await browser.type(await browser.one("class-name", cards[i]), name);
    await browser.upload("class-upload", await photos("www/samples", name), cards[i]);
  }
  assert.deepEqual(await browser.run(() => [...document.querySelectorAll('[data-testid="class-name"]')].map((n) => n.value)), classes);
  await waitForCounts(browser, ["5 photos", "5 photos", "5 photos"]);
  const uploadMs = Date.now() - uploadStarted;

  const trainStarted = Date.now();
  await browser.click("train");
  const trained = await browser.waitFor(() => ["done", "error"].includes(document.querySelector('[data-testid="train-status"]')?.dataset.state) && document.querySelector('[data-testid="train-status"]').dataset.state, { what: "training" });
  assert.equal(trained, "done");
  const trainMs = Date.now() - trainStarted;

  const queries = await heldOut();
  const seen = await classify(browser, queries.map((q) => q.file));
  const correct = queries.filter((q) => seen[basename(q.file)].label === q.name).length;
  // By now the pool has timed its workers: it keeps no more than help, whatever cores WebKit reports.
  const workers = await browser.run(() => Number(document.querySelector('[data-testid="backend"]').dataset.workers));
  console.log("webkit:", JSON.stringify({ browser: browser.version, readyMs, uploadMs, trainMs, correct, of: queries.length, ...capabilities, workers, machineCores: cpus().length }));
  assert.ok(correct >= 12, `${correct} of ${queries.length} held-out photos right`);
  assert.ok(workers >= 1 && workers <= cpus().length, `${workers} workers on ${cpus().length} cores (WebKit reports ${capabilities.cores})`);

  // Saved in this private-window-like session too (photos as bytes, not Blobs): the header says
  // so only after the write landed, and a reload brings back the classes, photos and model.
  await browser.waitFor(() => /^Saved on this device/.test(document.querySelector('[data-testid="storage-used"]')?.textContent), { what: "saved" });
  assert.doesNotMatch(await notices(browser), /could not be saved/);
  await openReady(browser);
  await waitForCounts(browser, ["5 photos", "5 photos", "5 photos"]);
  assert.deepEqual(await browser.run(() => [...document.querySelectorAll('[data-testid="class-name"]')].map((n) => n.value)), classes);
  await browser.waitFor(() => document.querySelector('[data-testid="model-info"]'), { what: "the saved model" });
  assert.deepEqual(await classify(browser, queries.map((q) => q.file)), seen, "the saved model classifies exactly as before");
  await mkdir(artifactsDir, { recursive: true });
  await writeFile(join(artifactsDir, "webkit.png"), await browser.screenshot());
  assert.deepEqual(await browser.run(() => window.__errors), []);
  session.seen = seen;
});

test("in WebKit a model file and a project file go out and come back in, and a damaged one is refused", { timeout: WAIT_MS * 2 }, async () => {
  const { browser } = session;
  assert.ok(session.seen, "the first test trained a model");
  const queries = (await heldOut()).map((q) => q.file);
  await browser.catchDownloads();

  await browser.click("export-model");
  const model = await browser.download(0);
  assert.equal(model.name, "headstart-model-1.hsm");
  const headerLength = Number(model.bytes.readBigUInt64LE(0));
  const damaged = join(session.files, "damaged.hsm");
  await writeFile(damaged, withByteChanged(model.bytes, 8 + headerLength + Math.floor((model.bytes.length - 8 - headerLength) / 2)));
  await browser.upload("import-model", [damaged]);
  await browser.waitFor(() => /"damaged.hsm" was not imported: [^.]*damaged or was edited/.test(document.querySelector('[data-testid="notices"]')?.textContent), { what: "the damaged file refused" });
  const modelFile = join(session.files, model.name);
  await writeFile(modelFile, model.bytes);
  const version = await browser.run(() => document.querySelector('[data-testid="model-info"]').dataset.version);
  await browser.upload("import-model", [modelFile]);
  await browser.waitFor((v) => document.querySelector('[data-testid="model-info"]')?.dataset.version !== v, { args: [version], what: "the imported model in use" });
  assert.deepEqual(await classify(browser, queries), session.seen, "the imported model classifies exactly as the exported one");

  await browser.click("export-project");
  const project = await browser.download(1);
  assert.equal(project.name, "headstart-project.hsp");
  const projectFile = join(session.files, project.name);
  await writeFile(projectFile, project.bytes);
  // A new project, then the file brings back the classes, photos and model.
  await browser.click("new-project");
  await browser.acceptDialog();
  await browser.waitFor(() => document.querySelectorAll('[data-testid="class-count"]').length === 2 && !document.querySelector('[data-testid="model-info"]'), { what: "a new project" });
  await browser.upload("import-project", [projectFile]);
  await waitForCounts(browser, ["5 photos", "5 photos", "5 photos"]);
  await browser.waitFor(() => document.querySelector('[data-testid="model-info"]'), { what: "the project's model" });
  assert.deepEqual(await classify(browser, queries), session.seen, "the project's model classifies exactly as before");
  assert.deepEqual(await browser.run(() => window.__errors), []);
});

test("in WebKit the offline copy is kept where this engine serves service workers", { timeout: WAIT_MS * 2 }, async () => {
  const { browser, server } = session;
  await openReady(browser, `${server.origin}/`);
  const offline = await browser.waitFor(
    () => ["ready", "unavailable"].includes(document.querySelector('[data-testid="offline"]')?.dataset.state) && document.querySelector('[data-testid="offline"]').dataset.state,
    { what: "the offline copy" },
  );
  console.log("webkit offline copy:", offline);
  if (offline !== "ready") {
    // This WebKit build does not keep it; the page says so instead of claiming it.
    assert.match(await browser.run(() => document.querySelector('[data-testid="offline"]').textContent), /\S/);
    return;
  }
  server.offline = true;
  try {
    await openReady(browser);
    await browser.click("load-samples");
    await waitForCounts(browser, ["5 photos", "5 photos", "5 photos"]);
  } finally {
    server.offline = false;
  }
});

test("in WebKit a photo its camera marked as turned is drawn upright (createImageBitmap's imageOrientation and resize options)", { timeout: WAIT_MS }, async () => {
  const { browser } = session;
  // A 64 × 32 JPEG that WebKit itself encodes, marked "rotate 90° to view" (EXIF orientation 6).
  const base64 = await browser.run(async () => {
    const canvas = new OffscreenCanvas(64, 32);
    const context = canvas.getContext("2d");
    context.fillStyle = "#3a7bd5";
    context.fillRect(0, 0, 64, 32);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/jpeg", quality: 0.9 })).arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  });
  const file = join(session.files, "rotated-exif.jpg");
  await writeFile(file, withExifOrientation(Buffer.from(base64, "base64"), 6));
  await browser.upload("class-upload", [file], (await browser.byTestId("class-card"))[0]);
  const size = await browser.waitFor(() => {
    const thumbnail = document.querySelector('img[alt="rotated-exif.jpg"]');
    return thumbnail?.naturalWidth > 0 && [thumbnail.naturalWidth, thumbnail.naturalHeight];
  }, { what: "the turned photo's thumbnail" });
  assert.deepEqual(size, [80, 160], "upright: portrait, 160 px tall");
  assert.deepEqual(await browser.run(() => window.__errors), []);
});
