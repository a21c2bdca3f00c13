// ONNX Runtime Web running the same EfficientNet-Lite0 backbone (exported by
// scripts/onnx_export.py from the same checkpoint) in the benchmark's browser, preprocessing
// photos the way Headstart's worker does: createImageBitmap (EXIF orientation applied), the
// centre 224/256 of the short side drawn to a 224x224 canvas with high-quality smoothing on
// white, then (x - 127) / 128 per channel, NCHW. Driven by tests/browser/bench/speed.mjs
// through `window.anchor`.
const params = new URLSearchParams(location.search);
const threads = Number(params.get("threads") ?? 1);
const backend = params.get("backend") ?? "wasm";
const dist = new URL("./node_modules/onnxruntime-web/dist/", import.meta.url).href;
const ort = await import(dist + (backend === "webgpu" ? "ort.webgpu.min.mjs" : "ort.wasm.min.mjs"));
ort.env.wasm.numThreads = threads;
ort.env.wasm.wasmPaths = dist;
const SIDE = 224;
const INPUT_LEN = 3 * SIDE * SIDE;
const session = await ort.InferenceSession.create(new URL("/repo/data/onnx/efficientnet-lite0.onnx", location.href).href, {
  executionProviders: [backend],
  graphOptimizationLevel: "all",
});

/** A photo's normalized network input, as Headstart's worker makes it. */
async function preprocess(blob) {
  const bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
  const short = Math.min(bitmap.width, bitmap.height);
  const size = Math.max(short * (224 / 256), 1);
  const canvas = new OffscreenCanvas(SIDE, SIDE);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.imageSmoothingQuality = "high";
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, SIDE, SIDE);
  context.drawImage(bitmap, (bitmap.width - size) / 2, (bitmap.height - size) / 2, size, size, 0, 0, SIDE, SIDE);
  bitmap.close();
  const rgba = context.getImageData(0, 0, SIDE, SIDE).data;
  const input = new Float32Array(INPUT_LEN);
  for (let i = 0; i < SIDE * SIDE; i++) {
    for (let c = 0; c < 3; c++) input[c * SIDE * SIDE + i] = (rgba[i * 4 + c] - 127) / 128;
  }
  return input;
}

/** The embeddings of `batch` inputs laid end to end. */
async function embed(inputs, batch) {
  const tensor = new ort.Tensor("float32", inputs, [batch, 3, SIDE, SIDE]);
  const { embedding } = await session.run({ input: tensor });
  const values = await embedding.getData();
  tensor.dispose();
  embedding.dispose();
  return values;
}

window.anchor = {
  threads,
  backend,
  crossOriginIsolated,
  /** The normalized input of the photo at `url` (for Headstart's page to embed too). */
  async input(url) {
    return Array.from(await preprocess(await (await fetch(url)).blob()));
  },
  /** The embedding of one normalized input. */
  async embed(input) {
    return Array.from(await embed(Float32Array.from(input), 1));
  },
  /** Milliseconds per photo of `runs` forward passes at `batch` (the input repeated), the
   * network alone, after one pass to warm up. */
  async modelOnly(input, batch, runs) {
    const inputs = new Float32Array(INPUT_LEN * batch);
    for (let b = 0; b < batch; b++) inputs.set(input, b * INPUT_LEN);
    await embed(inputs, batch);
    const start = performance.now();
    for (let r = 0; r < runs; r++) await embed(inputs, batch);
    return (performance.now() - start) / (runs * batch);
  },
  /** Photos per second for the files at `urls`, fetched first, then each decoded,
   * preprocessed and embedded one after another. */
  async decodeIncluded(urls) {
    const blobs = await Promise.all(urls.map(async (url) => (await fetch(url)).blob()));
    await embed(await preprocess(blobs[0]), 1);
    const start = performance.now();
    for (const blob of blobs) await embed(await preprocess(blob), 1);
    return blobs.length / ((performance.now() - start) / 1000);
  },
};
window.anchorReady = true;
