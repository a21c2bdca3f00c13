// Benchmark (not a test): photos embedded per second with 1 worker and with the pool, the page
// thread's longest task in each phase, each worker's wasm memory, and time to ready, on the
// release page in headless Chromium. Rounds alternate the pool sizes; medians are reported.
// Run with scripts/bench-workers.sh (ROUNDS=3 and SIZES="1 2" by default).
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { serveDist, launchBrowser, artifactsDir, photos, median } from "../harness.mjs";

const rounds = Number(process.env.ROUNDS ?? 3);
const sizes = (process.env.SIZES ?? "1 2").split(/\s+/).map(Number);
const classes = ["bird", "flower", "fruit"];
const WAIT_MS = 600_000;


async function measure(browser, origin, workers) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longTasks.push({ start: e.startTime, duration: e.duration })))
      .observe({ type: "longtask", buffered: true });
  });
  const started = Date.now();
  await page.goto(`${origin}/?compute=cpu&workers=${workers}`);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const readyMs = Date.now() - started;
  const now = () => page.evaluate(() => performance.now());
  const longest = (from, to) => page.evaluate(([a, b]) => Math.max(0, ...window.__longTasks.filter((e) => e.start >= a && e.start < b).map((e) => e.duration)), [from, to]);
  const cards = page.getByTestId("class-card");
  await page.getByTestId("add-class").click();
  for (const [i, name] of classes.entries()) await cards.nth(i).getByTestId("class-name").fill(name);

  const t0 = await now();
  for (const [i, name] of classes.entries()) {
    await cards.nth(i).getByTestId("class-upload").setInputFiles([...(await photos("www/samples", name)), ...(await photos("tests/photos/held-out", name))]);
  }
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="class-count"]')].every((e) => e.textContent === "10 photos") && !document.querySelector('[data-testid="pending-photos"]'), null, { timeout: WAIT_MS });
  const t1 = await now();
  const memoryMb = [];
  for (const worker of page.workers()) memoryMb.push((await worker.evaluate(() => wasm_bindgen.memory_bytes())) / 1e6);
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]').dataset.state === "done", null, { timeout: WAIT_MS });
  const t2 = await now();
  const queries = [];
  for (const name of classes) queries.push(...(await photos("www/samples", name)));
  await page.getByTestId("predict-upload").setInputFiles(queries);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="prediction"]').length === n, queries.length, { timeout: WAIT_MS });
  const t3 = await now();
  const result = {
    workers,
    readyMs,
    embedPhotosPerSecond: 30 / ((t1 - t0) / 1000),
    trainMs: t2 - t1,
    classifyPhotosPerSecond: queries.length / ((t3 - t2) / 1000),
    longestTaskMs: { embedding: await longest(t0, t1), training: await longest(t1, t2), classifying: await longest(t2, t3 + 1) },
    workerMemoryMb: memoryMb,
  };
  await page.close();
  return result;
}

const server = await serveDist();
const browser = await launchBrowser({ webgpu: false });
const results = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const workers of sizes) {
      const result = await measure(browser, server.origin, workers);
      console.log(JSON.stringify(result));
      results.push(result);
    }
  }
} finally {
  await browser.close();
  await server.close();
}
const summary = sizes.map((workers) => {
  const mine = results.filter((r) => r.workers === workers);
  const pick = (f) => median(mine.map(f));
  return {
    workers,
    readyMs: pick((r) => r.readyMs),
    embedPhotosPerSecond: pick((r) => r.embedPhotosPerSecond),
    trainMs: pick((r) => r.trainMs),
    classifyPhotosPerSecond: pick((r) => r.classifyPhotosPerSecond),
    longestTaskMs: Math.max(...mine.flatMap((r) => Object.values(r.longestTaskMs))),
    workerMemoryMb: pick((r) => Math.max(...r.workerMemoryMb)),
  };
});
console.table(summary);
await mkdir(artifactsDir, { recursive: true });
await writeFile(join(artifactsDir, "bench-workers.json"), JSON.stringify({ rounds, results, summary }, null, 2));
