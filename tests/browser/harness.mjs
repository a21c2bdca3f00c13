// Serves dist/ on loopback and drives Debian's Chromium with playwright-core (never a
// downloaded browser). Every request a page opened here makes is recorded, and at the end of
// each test file every one of them must have gone to the page's own origin and carried no body
// (only GETs): across the files that is a whole session of loading, uploading, training,
// comparing, classifying, exporting, importing and reloading, with nothing sent anywhere.
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFile, readdir, stat, mkdir, writeFile } from "node:fs/promises";
import { extname, join, normalize, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { before, after } from "node:test";
import { chromium } from "playwright-core";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const distDir = join(repoRoot, "dist");
export const artifactsDir = join(repoRoot, "tests", "browser", "artifacts");

const mimeTypes = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".txt": "text/plain; charset=utf-8",
  ".bpk": "application/octet-stream",
  ".webmanifest": "application/manifest+json",
};

/** Starts a static server for dist/ on 127.0.0.1 with a free port. While its `offline` is set
 * it answers nothing: every connection is dropped, as with no network at all, and the paths
 * tried are kept in `triedWhileOffline`. `roots` serves more folders under URL prefixes
 * (`{ "/ort/": folder }`); responses under a prefix listed in `isolated` carry the headers
 * that make a page cross-origin isolated (threads in wasm). Bytes sent are counted per path
 * in `sent`. */
export async function serveDist({ roots = {}, isolated = [] } = {}) {
  const served = { offline: false, triedWhileOffline: [], sent: new Map() };
  const folders = [...Object.entries(roots), ["/", distDir]];
  const server = createServer(async (request, response) => {
    if (served.offline) {
      served.triedWhileOffline.push(request.url);
      request.socket.destroy();
      return;
    }
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const [prefix, folder] = folders.find(([prefix]) => path.startsWith(prefix));
    const rest = path.slice(prefix.length - 1);
    const file = normalize(join(folder, rest.endsWith("/") ? rest + "index.html" : rest));
    if (!file.startsWith(folder)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      const headers = {
        "content-type": mimeTypes[extname(file)] ?? "application/octet-stream",
        "content-length": body.length,
      };
      if (isolated.some((p) => path.startsWith(p))) {
        headers["cross-origin-opener-policy"] = "same-origin";
        headers["cross-origin-embedder-policy"] = "require-corp";
      }
      response.writeHead(200, headers);
      response.end(body);
      served.sent.set(path, body.length);
    } catch {
      response.writeHead(404).end("not found");
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  served.origin = origin;
  served.close = () => new Promise((resolve) => server.close(resolve));
  return served;
}

/** Launches headless Chromium; `webgpu` exposes its software WebGPU adapter (SwiftShader);
 * `camera`, an MJPEG file, is what its one fake camera shows (allowed without asking). */
export async function launchBrowser({ webgpu = true, camera } = {}) {
  await stat(join(distDir, "index.html")).catch(() => {
    throw new Error("dist/ has no page: run `trunk build --release` (scripts/test.sh does)");
  });
  const args = [
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
  ];
  if (webgpu) args.push("--enable-unsafe-webgpu");
  if (camera) args.push("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${camera}`);
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args });
}

/** Every request of every page opened by `openPage` in this test file, and how many pages. */
const sessionRequests = [];
let pagesOpened = 0;

/** Opens the page in a new tab of `browser` (a browser, 1200 × 1000, or one of its contexts,
 * at the context's size), recording requests and console errors. */
export async function openPage(browser, origin, query = "") {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  pagesOpened += 1;
  const requests = [];
  const consoleErrors = [];
  page.on("request", (request) => {
    requests.push(request.url());
    sessionRequests.push({ url: request.url(), method: request.method(), bodyBytes: request.postDataBuffer()?.length ?? 0, origin });
  });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  // Anything the page's Content-Security-Policy blocks counts as an error.
  await page.exposeFunction("headstartPolicyViolation", (what) => consoleErrors.push(`CSP violation: ${what}`));
  await page.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) => window.headstartPolicyViolation(`${e.violatedDirective} ${e.blockedURI}`)),
  );
  await page.goto(`${origin}/${query}`);
  return { page, requests, consoleErrors };
}

/** Saves a screenshot under tests/browser/artifacts/. */
export async function screenshot(page, name) {
  await mkdir(artifactsDir, { recursive: true });
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true });
}

/** Registers hooks serving dist/ and launching Chromium (with its software WebGPU adapter)
 * around a test file; the returned object's `server` and `browser` are set once they run. */
export function servePageInBrowser({ cameraPhoto } = {}) {
  const session = {};
  before(async () => {
    session.server = await serveDist();
    const camera = cameraPhoto && (await fakeCameraFile(cameraPhoto));
    session.browser = await launchBrowser({ webgpu: true, camera });
  });
  after(async () => {
    await session.browser?.close();
    await session.server?.close();
    // Nothing left the device: every request went to the page's own origin (or was a blob: or
    // data: URL inside the page) and was a GET without a body, so no photo went anywhere.
    const sent = sessionRequests.filter(({ url, method, bodyBytes, origin }) =>
      !(url.startsWith(origin) || url.startsWith("blob:") || url.startsWith("data:")) || !["GET", "HEAD"].includes(method) || bodyBytes > 0);
    if (sent.length > 0) throw new Error(`requests that left the page or carried data: ${JSON.stringify(sent.slice(0, 5))}`);
    if (pagesOpened > 0 && sessionRequests.length === 0) throw new Error("no request was recorded: the check would prove nothing");
  });
  return session;
}

/** The middle value of `values` (the upper one of an even count), for the benchmarks. */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The photo files of one class folder under `dir` (relative to the repository or absolute), sorted. */
export async function photos(dir, className) {
  const folder = resolve(repoRoot, dir, className);
  const names = (await readdir(folder)).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
  return names.map((name) => join(folder, name));
}

/** Waits until every class shows its expected count and no photo is being worked on. */
export async function waitForCounts(page, expected, timeout = 300_000) {
  await page.waitForFunction(
    (want) =>
      JSON.stringify([...document.querySelectorAll('[data-testid="class-count"]')].map((e) => e.textContent)) === JSON.stringify(want) &&
      !document.querySelector('[data-testid="pending-photos"]'),
    expected,
    { timeout },
  );
}

/** Runs the native `headstart` command (built by the native tests of scripts/test.sh; set
 * HEADSTART_CLI to use another build) in the repository root and returns its stdout as JSON. */
export async function headstartCli(args) {
  const { execFile } = await import("node:child_process");
  const { promisify } = await import("node:util");
  const { homedir } = await import("node:os");
  const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "headstart", "target");
  const binary = process.env.HEADSTART_CLI ?? join(targetDir, "release", "headstart");
  const { stdout } = await promisify(execFile)(binary, [...args, "--json"], { cwd: repoRoot, maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}

/** What the page classifies `files` as with the model in use: probabilities by file name. */
export async function pageProbabilities(page, files, timeout = 300_000) {
  await page.getByTestId("predict-upload").setInputFiles(files);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="prediction"]').length === n, files.length, { timeout });
  return page.getByTestId("prediction").evaluateAll((nodes) =>
    Object.fromEntries(nodes.map((n) => [n.dataset.file, [...n.querySelectorAll("meter")].map((m) => Number(m.value))])),
  );
}

/** Makes the file Chromium's fake camera plays (MJPEG: one 640x480 frame, looped) from a real
 * photo (relative to the repository), letterboxed on white; returns its path. */
export async function fakeCameraFile(photo) {
  const browser = await launchBrowser({ webgpu: false });
  try {
    const page = await browser.newPage();
    const png = await readFile(resolve(repoRoot, photo));
    const jpeg = await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes]));
      const canvas = new OffscreenCanvas(640, 480);
      const context = canvas.getContext("2d");
      const scale = Math.min(640 / bitmap.width, 480 / bitmap.height);
      context.fillStyle = "white";
      context.fillRect(0, 0, 640, 480);
      context.drawImage(bitmap, (640 - bitmap.width * scale) / 2, (480 - bitmap.height * scale) / 2, bitmap.width * scale, bitmap.height * scale);
      const encoded = new Uint8Array(await (await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 })).arrayBuffer());
      let text = "";
      for (const byte of encoded) text += String.fromCharCode(byte);
      return btoa(text);
    }, png.toString("base64"));
    await mkdir(artifactsDir, { recursive: true });
    const path = join(artifactsDir, "fake-camera.mjpeg");
    await writeFile(path, Buffer.from(jpeg, "base64"));
    return path;
  } finally {
    await browser.close();
  }
}

/**
 * A Headstart file (model or project) with its JSON header edited by `edit` and sealed again as
 * the page's writer seals it: `header_sha256` taken over the padded header with its own 64
 * digits as zeros. A file edited so is checked for what it says, not only for its checksum.
 */
export function resealed(bytes, edit) {
  const length = Number(bytes.readBigUInt64LE(0));
  const zeros = `"header_sha256":"${"0".repeat(64)}"`;
  const text = edit(bytes.subarray(8, 8 + length).toString().trimEnd()).replace(/"header_sha256":"[0-9a-f]{64}"/, zeros);
  const padded = text + " ".repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const sealed = Buffer.from(padded.replace(zeros, `"header_sha256":"${createHash("sha256").update(padded).digest("hex")}"`));
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(sealed.length));
  return Buffer.concat([head, sealed, bytes.subarray(8 + length)]);
}

/** `bytes` with the byte at `at` changed (one bit flipped), as a damaged disk or download leaves it. */
export function withByteChanged(bytes, at) {
  const changed = Buffer.from(bytes);
  changed[at] ^= 0x01;
  return changed;
}
