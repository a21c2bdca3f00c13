// Benchmark (not a test): a class-sized dataset in one tab. Adds PHOTOS photos (2,000 by
// default; the 30 real photos of the repository under distinct names) in batches of 200
// through the file pickers, measures the tab's memory (resident memory of the renderer
// process, which holds the page and its model workers) at 500 photos and at the end, trains,
// classifies 100 more, reloads and checks that every photo came back. First, what a model worker
// costs: the renderer's memory at ready with 1, 2 and 4 workers (`?workers=N`). While photos
// are added, the page's longest task (Long Tasks API) says whether it answers.
// Run with scripts/bench-memory.sh; the figures go to tests/browser/artifacts/bench-memory.json.
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { serveDist, launchBrowser, repoRoot, artifactsDir } from "../harness.mjs";

const total = Number(process.env.PHOTOS ?? 2000);
const BATCH = 200;
const WAIT_MS = 1_800_000;
const classes = ["bird", "flower", "fruit"];

/** Resident memory of Chromium's renderer processes, in MB. */
function rendererMegabytes() {
  const lines = execFileSync("ps", ["-eo", "rss=,args="], { encoding: "utf8" }).split("\n");
  const renderers = lines.filter((line) => line.includes("--type=renderer"));
  return renderers.reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0]), 0) / 1024;
}

async function sourcePhotos(name) {
  const files = [];
  for (const dir of ["www/samples", "tests/photos/held-out"]) {
    const folder = join(repoRoot, dir, name);
    for (const file of (await readdir(folder)).filter((f) => f.endsWith(".png")).sort()) files.push(join(folder, file));
  }
  return files;
}

/** `count` files for a class: its real photos copied under distinct names. */
async function classFiles(dir, name, count) {
  const sources = await sourcePhotos(name);
  await mkdir(join(dir, name), { recursive: true });
  const files = [];
  for (let i = 0; i < count; i++) {
    const file = join(dir, name, `${name}-${String(i).padStart(4, "0")}.png`);
    await copyFile(sources[i % sources.length], file);
    files.push(file);
  }
  return files;
}

const server = await serveDist();
const browser = await launchBrowser({ webgpu: false });
const dir = await mkdtemp(join(tmpdir(), "headstart-memory-"));
const perClass = Math.ceil(total / classes.length);
const files = Object.fromEntries(await Promise.all(classes.map(async (name) => [name, await classFiles(dir, name, perClass)])));
const readyWith = {};
for (const workers of [1, 2, 4]) {
  const alone = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  const probe = await alone.newPage();
  await probe.goto(`${server.origin}/?compute=cpu&workers=${workers}`);
  await probe.waitForFunction((n) => document.querySelector('[data-testid="backend"]')?.dataset.workers === String(n), workers, { timeout: WAIT_MS });
  await probe.waitForTimeout(3000);
  readyWith[workers] = rendererMegabytes();
  await alone.close();
}
console.log("renderer MB at ready by workers:", JSON.stringify(readyWith));
const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
const page = await context.newPage();
await page.addInitScript(() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: "longtask", buffered: true });
});
const errors = [];
page.on("pageerror", (error) => errors.push(String(error)));
await page.goto(`${server.origin}/?compute=cpu`);
await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
// The pool has found its size (it times its workers a few seconds after ready).
await page.waitForTimeout(10_000);
const workers = Number(await page.getByTestId("backend").getAttribute("data-workers"));
const cards = page.getByTestId("class-card");
await page.getByTestId("add-class").click();
for (const [i, name] of classes.entries()) await cards.nth(i).getByTestId("class-name").fill(name);
const figures = { photos: perClass * classes.length, workers, memoryMb: { readyWith, ready: rendererMegabytes() } };
await page.evaluate(() => (window.__longTasks = []));
const idle = () => page.waitForFunction(() => !document.querySelector('[data-testid="pending-photos"]'), null, { timeout: WAIT_MS });
const added = () => page.getByTestId("class-count").evaluateAll((nodes) => nodes.reduce((sum, n) => sum + Number(n.textContent.split(" ")[0]), 0));
const started = Date.now();
const step = Math.ceil(BATCH / classes.length);
for (let from = 0; from < perClass; from += step) {
  for (const [i, name] of classes.entries()) await cards.nth(i).getByTestId("class-upload").setInputFiles(files[name].slice(from, from + step));
  await idle();
  const count = await added();
  if (count >= 500 && figures.memoryMb.at500 === undefined) figures.memoryMb.at500 = rendererMegabytes();
  console.log(`${count} photos, ${((Date.now() - started) / 1000).toFixed(0)} s, renderer ${rendererMegabytes().toFixed(0)} MB`);
}
figures.addSeconds = (Date.now() - started) / 1000;
const storageLine = () => page.getByTestId("storage-used").textContent();
figures.headerWhenAdded = await storageLine();
figures.longTasksWhileAdding = await page.evaluate(() => ({ count: window.__longTasks.length, longestMs: Math.max(0, ...window.__longTasks) }));
figures.added = await added();
figures.memoryMb.atEnd = rendererMegabytes();
figures.storedMb = Number(await page.getByTestId("storage-used").getAttribute("data-bytes")) / 1e6;

const trainStart = Date.now();
await page.getByTestId("train").click();
await page.waitForFunction(() => !["idle", "preparing", "running"].includes(document.querySelector('[data-testid="train-status"]').dataset.state), null, { timeout: WAIT_MS });
figures.trainSeconds = (Date.now() - trainStart) / 1000;
figures.trainState = await page.getByTestId("train-status").getAttribute("data-state");
const classifyStart = Date.now();
await page.getByTestId("predict-upload").setInputFiles([...files.bird.slice(0, 34), ...files.flower.slice(0, 33), ...files.fruit.slice(0, 33)]);
await page.waitForFunction(() => document.querySelectorAll('[data-testid="prediction"]').length === 100, null, { timeout: WAIT_MS });
figures.classify100Seconds = (Date.now() - classifyStart) / 1000;
figures.memoryMb.afterTraining = rendererMegabytes();

// A reload before the saves have landed would lose what they carry: wait for the header to say so.
figures.headerWhenClassified = await storageLine();
const savedWait = Date.now();
await page.waitForFunction(() => /^Saved on this device/.test(document.querySelector('[data-testid="storage-used"]').textContent), null, { timeout: WAIT_MS, polling: 200 });
figures.savesLandedSecondsAfterClassifying = (Date.now() - savedWait) / 1000;
// The peak while the saved work is read back, sampled every 250 ms.
let reloadPeak = 0;
const sampling = setInterval(() => (reloadPeak = Math.max(reloadPeak, rendererMegabytes())), 250);
const reloadStart = Date.now();
await page.reload();
await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
figures.reloadSeconds = (Date.now() - reloadStart) / 1000;
figures.restored = await added();
figures.modelRestored = (await page.getByTestId("model-info").count()) === 1;
await page.waitForTimeout(2000);
figures.memoryMb.afterReload = rendererMegabytes();
await page.waitForTimeout(15_000);
figures.memoryMb.afterReloadSettled = rendererMegabytes();
clearInterval(sampling);
figures.memoryMb.peakAroundReload = reloadPeak;
figures.pageErrors = errors;
console.log("memory benchmark:", JSON.stringify(figures));
await mkdir(artifactsDir, { recursive: true });
await writeFile(join(artifactsDir, "bench-memory.json"), JSON.stringify(figures, null, 2));
await browser.close();
await server.close();
if (figures.restored !== figures.added || !figures.modelRestored || errors.length > 0) process.exit(1);
