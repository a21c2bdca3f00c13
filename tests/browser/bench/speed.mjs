// The benchmark (not a test; run it with scripts/bench.sh): Headstart's release page against
// ONNX Runtime Web on the same EfficientNet-Lite0 weights, in one headless Chromium, rounds
// interleaved (Headstart with 1 worker, with the pool, ONNX Runtime Web on 1 thread, on 2), and
// medians reported. Writes BENCHMARKS.json and the results section of BENCHMARKS.md.
import { readFile, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { cpus, totalmem, release } from "node:os";
import { join } from "node:path";
import { serveDist, launchBrowser, repoRoot, distDir, photos, waitForCounts, median } from "../harness.mjs";

const rounds = Number(process.env.ROUNDS ?? 3);
const WAIT_MS = 600_000;
const benchDir = join(repoRoot, "tests", "browser", "bench");

// 4 classes x 20 photos from the 30 real ones: class i takes 20 in a row from place 10 i.
const realPhotos = [];
for (const name of ["bird", "flower", "fruit"]) realPhotos.push(...(await photos("www/samples", name)), ...(await photos("tests/photos/held-out", name)));
const classPhotos = [0, 1, 2, 3].map((i) => Array.from({ length: 20 }, (_, k) => realPhotos[(10 * i + k) % realPhotos.length]));
const photoUrls = classPhotos.flat().map((file) => "/repo/" + file.slice(repoRoot.length + 1));

const server = await serveDist({ roots: { "/bench/": benchDir, "/repo/": repoRoot }, isolated: ["/bench/"] });
const browser = await launchBrowser({ webgpu: true });

/** Opens ONNX Runtime Web's page; `backend` is "wasm" or "webgpu". */
async function openAnchor(context, threads, backend = "wasm") {
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("anchor page:", String(error)));
  const started = Date.now();
  await page.goto(`${server.origin}/bench/ort.html?threads=${threads}&backend=${backend}`);
  await page.waitForFunction(() => window.anchorReady, null, { timeout: WAIT_MS });
  return { page, readyMs: Date.now() - started };
}

/** What WebGPU adapter this browser offers, and whether it is a software one. */
async function webgpuAdapter(page) {
  return page.evaluate(async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) return { available: false };
    const info = adapter.info ?? {};
    const software = adapter.isFallbackAdapter || /swiftshader|llvmpipe|software/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
    return { available: true, software, vendor: info.vendor, architecture: info.architecture, description: info.description };
  });
}

/** Milliseconds per photo of the network alone at `batch` in one of the page's workers, and
 * photos per second with `workers` all running at once (timed inside the workers, so that
 * handing them the input is not counted). */
async function headstartModelOnly(workers, input, batch, runs) {
  const timed = (worker) =>
    worker.evaluate(
      async ([input, batch, runs]) => {
        const inputs = new Float32Array(input.length * batch);
        for (let b = 0; b < batch; b++) inputs.set(input, b * input.length);
        await wasm_bindgen.embed_normalized(inputs);
        const start = performance.timeOrigin + performance.now();
        for (let r = 0; r < runs; r++) await wasm_bindgen.embed_normalized(inputs);
        return [start, performance.timeOrigin + performance.now()];
      },
      [input, batch, runs],
    );
  // Every worker receives the input first, then all start together.
  const spans = await Promise.all(workers.map(timed));
  const wall = Math.max(...spans.map(([, end]) => end)) - Math.min(...spans.map(([start]) => start));
  const [start, end] = spans[0];
  return { msPerPhoto: (end - start) / (runs * batch), photosPerSecond: (workers.length * runs * batch) / (wall / 1000) };
}

/** Photos per second for the files at `urls` through one worker's photo path alone (decoded,
 * model input and thumbnail encoded, embedded), one after another, without the page. */
async function headstartWorkerDecodeIncluded(worker, urls) {
  return worker.evaluate(async (urls) => {
    const blobs = await Promise.all(urls.map(async (url) => (await fetch(url)).blob()));
    await wasm_bindgen.embed_file(blobs[0]);
    const start = performance.now();
    for (const blob of blobs) await wasm_bindgen.embed_file(blob);
    return blobs.length / ((performance.now() - start) / 1000);
  }, urls.map((url) => new URL(url, server.origin).href));
}

async function setting(page, name, value) {
  const input = name === "epochs" ? page.getByTestId("epochs") : page.getByTestId("settings").locator(`[name="${name}"]`);
  await input.fill(String(value));
  await input.press("Tab");
}

async function trainMs(page) {
  const start = Date.now();
  await page.getByTestId("train").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="train-status"]')?.dataset.state === "done", null, { timeout: WAIT_MS });
  return Date.now() - start;
}

/** One round of Headstart's page with `workers` workers (0: the page's own choice). */
async function measureHeadstart(workers, input, { training }) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page:", String(error)));
  const query = workers ? `?compute=cpu&workers=${workers}` : "?compute=cpu";
  // What the page and its workers fetch before ready; the offline copy, fetched by the service
  // worker afterwards, is counted by the server.
  const requested = new Set();
  const record = (request) => requested.add(new URL(request.url()).pathname);
  page.on("request", record);
  server.sent.clear();
  let started = Date.now();
  await page.goto(`${server.origin}/${query}`);
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const coldReadyMs = Date.now() - started;
  page.off("request", record);
  const toReady = [...requested];
  await page.getByTestId("offline").waitFor({ timeout: WAIT_MS });
  const withOfflineCopy = [...server.sent.keys()];
  started = Date.now();
  await page.reload();
  await page.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const warmReadyMs = Date.now() - started;
  const poolWorkers = page.workers();
  const single = await headstartModelOnly(poolWorkers.slice(0, 1), input, 1, 10);
  const batched = await headstartModelOnly(poolWorkers.slice(0, 1), input, 16, 2);
  const all = await headstartModelOnly(poolWorkers, input, 1, 10);
  const allBatched = await headstartModelOnly(poolWorkers, input, 16, 2);
  const workerDecodeIncluded = await headstartWorkerDecodeIncluded(poolWorkers[0], photoUrls);

  const cards = page.getByTestId("class-card");
  await page.getByTestId("add-class").click();
  await page.getByTestId("add-class").click();
  let t = Date.now();
  for (const [i, files] of classPhotos.entries()) await cards.nth(i).getByTestId("class-upload").setInputFiles(files);
  await waitForCounts(page, classPhotos.map(() => "20 photos"), WAIT_MS);
  const embedSeconds = (Date.now() - t) / 1000;
  const result = {
    workers: poolWorkers.length,
    coldReadyMs,
    warmReadyMs,
    modelOnlyMsPerPhoto: { batch1: single.msPerPhoto, batch16: batched.msPerPhoto },
    modelOnlyPhotosPerSecondAllWorkers: { batch1: all.photosPerSecond, batch16: allBatched.photosPerSecond },
    decodeIncludedPhotosPerSecond: classPhotos.flat().length / embedSeconds,
    workerDecodeIncludedPhotosPerSecond: workerDecodeIncluded,
    files: { toReady, withOfflineCopy },
  };
  if (training) {
    await page.getByTestId("settings").evaluate((details) => (details.open = true));
    for (const [name, value] of [["patience", 0], ["validation_fraction", 0], ["test_fraction", 0], ["epochs", 50]]) await setting(page, name, value);
    result.headTrainingMs = await trainMs(page);
    await page.getByTestId("train-mode").selectOption("finetune");
    await setting(page, "epochs", 1);
    const oneEpochMs = await trainMs(page);
    await setting(page, "epochs", 3);
    const threeEpochsMs = await trainMs(page);
    const stepsPerEpoch = Math.ceil(classPhotos.flat().length / 16);
    result.fineTuning = { oneEpochMs, threeEpochsMs, stepMs: (threeEpochsMs - oneEpochMs) / (2 * stepsPerEpoch) };
  }
  await context.close();
  return result;
}

async function measureAnchor(threads, input) {
  const context = await browser.newContext();
  const { page, readyMs } = await openAnchor(context, threads);
  const result = await page.evaluate(
    async ([input, urls]) => ({
      threads: window.anchor.threads,
      crossOriginIsolated: window.anchor.crossOriginIsolated,
      modelOnlyMsPerPhoto: { batch1: await window.anchor.modelOnly(input, 1, 10), batch16: await window.anchor.modelOnly(input, 16, 2) },
      decodeIncludedPhotosPerSecond: await window.anchor.decodeIncluded(urls),
    }),
    [input, photoUrls],
  );
  await context.close();
  return { ...result, readyMs };
}

async function fileSizes(paths) {
  const files = [];
  for (const path of paths) {
    const file = path.startsWith("/bench/") || path.startsWith("/repo/") ? null : join(distDir, path.endsWith("/") ? path + "index.html" : path);
    if (!file) continue;
    const body = await readFile(file);
    files.push({ path, bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length });
  }
  return files.sort((a, b) => b.bytes - a.bytes);
}

const results = { headstart: [], anchor: [] };
let check;
let adapter;
try {
  // The input both run: a real photo, preprocessed by the anchor's page.
  const context = await browser.newContext();
  const { page } = await openAnchor(context, 1);
  adapter = await webgpuAdapter(page);
  const input = await page.evaluate((url) => window.anchor.input(url), photoUrls[0]);
  const anchorEmbedding = await page.evaluate((input) => window.anchor.embed(input), input);
  await context.close();
  for (let round = 0; round < rounds; round++) {
    for (const workers of [1, 0]) {
      const result = await measureHeadstart(workers, input, { training: workers === 0 });
      console.log("headstart", JSON.stringify({ ...result, files: undefined }));
      results.headstart.push(result);
    }
    for (const threads of [1, 2]) {
      const result = await measureAnchor(threads, input);
      console.log("onnxruntime-web", JSON.stringify(result));
      results.anchor.push(result);
    }
  }
  // The same input through the page's network: the two must agree.
  const pageContext = await browser.newContext();
  const checkPage = await pageContext.newPage();
  await checkPage.goto(`${server.origin}/?compute=cpu&workers=1`);
  await checkPage.getByTestId("ready").waitFor({ timeout: WAIT_MS });
  const mine = Array.from(await checkPage.workers()[0].evaluate(async (input) => Array.from(await wasm_bindgen.embed_normalized(Float32Array.from(input))), input));
  await pageContext.close();
  const dot = mine.reduce((sum, v, i) => sum + v * anchorEmbedding[i], 0);
  const norm = (v) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  check = {
    maxAbsDifference: Math.max(...mine.map((v, i) => Math.abs(v - anchorEmbedding[i]))),
    largestValue: Math.max(...anchorEmbedding.map(Math.abs)),
    cosine: dot / (norm(mine) * norm(anchorEmbedding)),
  };
} finally {
  await browser.close();
  await server.close();
}

const summarize = (rows, keyOf) => {
  const groups = new Map();
  for (const row of rows) groups.set(keyOf(row), [...(groups.get(keyOf(row)) ?? []), row]);
  return [...groups.entries()].map(([key, mine]) => {
    const pick = (f) => median(mine.map(f).filter((v) => v !== undefined));
    return { key, pick, rows: mine };
  });
};
const pageRows = summarize(results.headstart, (r) => r.workers);
const anchorRows = summarize(results.anchor, (r) => r.threads);
const one = pageRows.find((g) => g.key === 1);
const pool = pageRows.find((g) => g.key !== 1) ?? one;
const anchorOne = anchorRows.find((g) => g.key === 1);
const anchorAll = anchorRows.find((g) => g.key === 2);
const files = await fileSizes(results.headstart[0].files.toReady);
const offlineFiles = await fileSizes(results.headstart[0].files.withOfflineCopy);
const total = (list, key) => list.reduce((sum, f) => sum + f[key], 0);
const summary = {
  modelOnlyRatio1Worker1Thread: one.pick((r) => r.modelOnlyMsPerPhoto.batch1) / anchorOne.pick((r) => r.modelOnlyMsPerPhoto.batch1),
  decodeIncludedRatio1Worker1Thread: anchorOne.pick((r) => r.decodeIncludedPhotosPerSecond) / one.pick((r) => r.workerDecodeIncludedPhotosPerSecond),
  pageRatio1Worker1Thread: anchorOne.pick((r) => r.decodeIncludedPhotosPerSecond) / one.pick((r) => r.decodeIncludedPhotosPerSecond),
  decodeIncludedRatioPoolAllThreads: anchorAll.pick((r) => r.decodeIncludedPhotosPerSecond) / pool.pick((r) => r.decodeIncludedPhotosPerSecond),
  modelOnlyRatioPoolAllThreads: 1000 / anchorAll.pick((r) => r.modelOnlyMsPerPhoto.batch1) / pool.pick((r) => r.modelOnlyPhotosPerSecondAllWorkers.batch1),
  downloadToReadyGzipBytes: total(files, "gzipBytes"),
  downloadToReadyBytes: total(files, "bytes"),
};
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() };
const report = { date: new Date().toISOString(), rounds, machine, browser: `Chromium ${browser.version()}`, webgpuAdapter: adapter, embeddingCheck: check, summary, files, offlineFiles, results };
await writeFile(join(repoRoot, "BENCHMARKS.json"), JSON.stringify(report, null, 2) + "\n");

// The results section of BENCHMARKS.md, between its markers.
const f1 = (v) => (v === undefined || Number.isNaN(v) ? "–" : v.toFixed(1));
const f2 = (v) => v.toFixed(2);
const mb = (v) => (v / 1e6).toFixed(2);
const rows = [
  ["Headstart, 1 worker", one],
  [`Headstart, pool of ${pool.key}`, pool],
];
const lines = [
  `Run ${report.date.slice(0, 16).replace("T", " ")} UTC: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${report.browser} headless, CPU path; `
    + `WebGPU adapter: ${!adapter?.available ? "none" : `${adapter.vendor || "?"} ${adapter.architecture || ""} (${adapter.software ? "software: WebGPU not measured" : "hardware"})`}. `
    + `Medians of ${rounds} interleaved rounds. Command: \`scripts/bench.sh\` (\`ROUNDS=${rounds}\`).`,
  "",
  "| runtime | ready | network alone, batch 1 (ms/photo) | batch 16 (ms/photo) | all workers/threads, batch 1 (photos/s) | decode included, one worker/thread (photos/s) | the page's uploads (photos/s) |",
  "|---|---|---|---|---|---|---|",
  ...rows.map(([name, g]) => `| ${name} | ${f2(g.pick((r) => r.coldReadyMs) / 1000)} s cold, ${f2(g.pick((r) => r.warmReadyMs) / 1000)} s warm | ${f1(g.pick((r) => r.modelOnlyMsPerPhoto.batch1))} | ${f1(g.pick((r) => r.modelOnlyMsPerPhoto.batch16))} | ${f1(g.pick((r) => r.modelOnlyPhotosPerSecondAllWorkers.batch1))} | ${f1(g.pick((r) => r.workerDecodeIncludedPhotosPerSecond))} | ${f1(g.pick((r) => r.decodeIncludedPhotosPerSecond))} |`),
  ...anchorRows.map((g) => `| ONNX Runtime Web 1.30 (wasm), ${g.key} thread${g.key > 1 ? "s" : ""} | ${f2(g.pick((r) => r.readyMs) / 1000)} s (session created) | ${f1(g.pick((r) => r.modelOnlyMsPerPhoto.batch1))} | ${f1(g.pick((r) => r.modelOnlyMsPerPhoto.batch16))} | ${f1(1000 / g.pick((r) => r.modelOnlyMsPerPhoto.batch1))} | ${f1(g.pick((r) => r.decodeIncludedPhotosPerSecond))} | – |`),
  "",
  `Ratios (Headstart's time over ONNX Runtime Web's; under 1 means Headstart is faster): network alone, 1 worker vs 1 thread **${f2(summary.modelOnlyRatio1Worker1Thread)}**; `
    + `decode included, 1 worker vs 1 thread **${f2(summary.decodeIncludedRatio1Worker1Thread)}** (the page's uploads with 1 worker: ${f2(summary.pageRatio1Worker1Thread)}); `
    + `the pool vs 2 threads: network alone **${f2(summary.modelOnlyRatioPoolAllThreads)}**, the page's uploads vs decode included **${f2(summary.decodeIncludedRatioPoolAllThreads)}**.`,
  "",
  `Training (the pool's page, on cached embeddings): a new head on 4 classes × 20 photos × 50 epochs in **${f2(pool.pick((r) => r.headTrainingMs) / 1000)} s** (click to done); `
    + `fine-tuning the last 2 blocks, one step of 16 photos: **${f2(pool.pick((r) => r.fineTuning?.stepMs) / 1000)} s** (3 epochs minus 1 epoch, over 10 steps; 1 epoch took ${f2(pool.pick((r) => r.fineTuning?.oneEpochMs) / 1000)} s).`,
  "",
  `The same photo through both networks: cosine ${check.cosine.toFixed(6)}, largest difference ${check.maxAbsDifference.toExponential(2)} (values up to ${check.largestValue.toFixed(2)}; the page's convolution weights are f16, the ONNX file's f32).`,
  "",
  `Downloaded to ready (no GPU): **${mb(summary.downloadToReadyGzipBytes)} MB gzipped** (${mb(summary.downloadToReadyBytes)} MB raw); with the offline copy the service worker fetches afterwards, ${mb(total(offlineFiles, "gzipBytes"))} MB gzipped.`,
  "",
  "| file | raw (MB) | gzip -9 (MB) |",
  "|---|---|---|",
  ...files.map((f) => `| \`${f.path.replace(/-[0-9a-f]{16}(?=[._])/, "-*")}\` | ${mb(f.bytes)} | ${mb(f.gzipBytes)} |`),
];
const markdownPath = join(repoRoot, "BENCHMARKS.md");
const markdown = await readFile(markdownPath, "utf8");
const [head, rest] = markdown.split("<!-- results:start -->");
const tail = rest.split("<!-- results:end -->")[1];
await writeFile(markdownPath, `${head}<!-- results:start -->\n${lines.join("\n")}\n<!-- results:end -->${tail}`);
console.log(lines.join("\n"));
