// The hostile and odd photo corpus of the browser tests, made here from nothing but bytes (no
// file is committed): each entry is { name, buffer, mimeType, expect } with `expect` "kept" (a
// photo the page must add) or "refused" (it must be named in a notice, and nothing else lost).
// Formats only a browser can encode (WebP, a canvas JPEG to put EXIF in) come from `encode`,
// which runs in the test's browser; those no browser writes (CMYK JPEG, AVIF, HEIC) from
// corpus_formats.py, made from the real photo.
import { deflateSync, crc32 } from "node:zlib";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** `realPhoto` as the files corpus_formats.py writes, by name, with the Python environment
 * scripts/setup.sh makes for it. */
async function formatsFromPython(realPhoto) {
  const dir = await mkdtemp(join(tmpdir(), "corpus-"));
  try {
    const source = join(dir, "source.png");
    await writeFile(source, realPhoto);
    const cache = process.env.HEADSTART_CACHE ?? join(homedir(), ".cache", "headstart");
    const script = fileURLToPath(new URL("corpus_formats.py", import.meta.url));
    const names = execFileSync(join(cache, "corpus-venv", "bin", "python"), [script, source, dir], { encoding: "utf8" }).trim().split("\n");
    return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name))])));
  } finally {
    await rm(dir, { recursive: true });
  }
}

function chunk(kind, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(kind), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG stating `width x height` (bit depth and colour type as given) over deflated `rows`. */
export function png(width, height, rows, { bitDepth = 8, colorType = 2 } = {}) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([bitDepth, colorType, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** Rows of `height` copies of one row of `width` pixels (each `pixel(x)`, bytes), filter 0. */
function rows(width, height, pixel) {
  const row = Buffer.concat([Buffer.from([0]), ...Array.from({ length: width }, (_, x) => Buffer.from(pixel(x)))]);
  return Buffer.concat(Array.from({ length: height }, () => row));
}

/** A 24-bit bottom-up BMP of `width x height` pixels of `pixel(x)` (BGR). */
function bmp(width, height, pixel) {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + stride * height);
  file.write("BM", 0);
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) file.set(pixel(x), 54 + y * stride + x * 3);
  return file;
}

/** A two-frame animated GIF of 1x1 pixel frames (each frame's data is the classic 1x1 image). */
function animatedGif() {
  const frame = Buffer.from([0x21, 0xf9, 0x04, 0x00, 0x32, 0x00, 0x00, 0x00, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00]);
  return Buffer.concat([
    Buffer.from("GIF89a"),
    Buffer.from([1, 0, 1, 0, 0x80, 0, 0, 0xff, 0x80, 0x00, 0x00, 0x00, 0x80]),
    Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from("NETSCAPE2.0"), 0x03, 0x01, 0x00, 0x00, 0x00]),
    frame,
    frame,
    Buffer.from(";"),
  ]);
}

/** A JPEG with an EXIF block saying "rotate 90° clockwise to view" (orientation 6). */
export function withExifOrientation(jpeg, orientation) {
  const tiff = Buffer.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from("Exif\0\0"), tiff]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, body, jpeg.subarray(2)]);
}

/** Encodes a 64x32 two-colour picture as `type` in the browser `page`. */
async function encode(page, type) {
  const base64 = await page.evaluate(async (kind) => {
    const canvas = new OffscreenCanvas(64, 32);
    const context = canvas.getContext("2d");
    context.fillStyle = "#3a7bd5";
    context.fillRect(0, 0, 64, 32);
    context.fillStyle = "#f5c542";
    context.fillRect(0, 0, 16, 32);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: kind, quality: 0.9 })).arrayBuffer());
    let text = "";
    for (const byte of bytes) text += String.fromCharCode(byte);
    return btoa(text);
  }, type);
  return Buffer.from(base64, "base64");
}

/** The corpus; `realPhoto` is the bytes of a real PNG photo (cut short for one entry). */
export async function corpus(page, realPhoto) {
  const gradient = (x) => [40 + (x % 200), 120, 200 - (x % 150)];
  const jpeg = await encode(page, "image/jpeg");
  const written = await formatsFromPython(realPhoto);
  const entry = (name, buffer, expect, mimeType = "application/octet-stream") => ({ name, buffer, expect, mimeType });
  return [
    entry("empty.png", Buffer.alloc(0), "refused"),
    entry("cut-short.png", realPhoto.subarray(0, Math.floor(realPhoto.length / 3)), "either"),
    entry("notes.jpg", Buffer.from("these are my notes, not a photo"), "refused"),
    entry("drawing-with-script.svg", Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><script>alert("svg")</script><rect width="64" height="48" fill="red"/></svg>'), "refused", "image/svg+xml"),
    entry("claims-50000x50000.png", png(50_000, 50_000, Buffer.alloc(64)), "refused"),
    entry("one-pixel.png", png(1, 1, rows(1, 1, () => [200, 30, 30])), "kept"),
    entry("strip-4000x6.png", png(4000, 6, rows(4000, 6, gradient)), "kept"),
    entry("sixteen-bit.png", png(64, 48, rows(64, 48, (x) => [x, 0, 30, 0, 200, 0]), { bitDepth: 16 }), "kept"),
    entry("grayscale.png", png(64, 48, rows(64, 48, (x) => [x * 3]), { colorType: 0 }), "kept"),
    entry("transparent.png", png(64, 48, rows(64, 48, (x) => [20, 160, 60, x < 32 ? 0 : 255]), { colorType: 6 }), "kept"),
    entry("bitmap.bmp", bmp(64, 48, gradient), "kept"),
    entry("animated.gif", animatedGif(), "kept"),
    entry("picture.webp", await encode(page, "image/webp"), "kept"),
    entry("print-cmyk.jpg", written["print-cmyk.jpg"], "kept"),
    entry("phone.avif", written["phone.avif"], "kept"),
    // Chromium decodes no HEIC: refused by name (a student's iPhone photo needs exporting as JPEG).
    entry("iphone.heic", written["iphone.heic"], "refused"),
    entry("rotated-exif.jpg", withExifOrientation(jpeg, 6), "kept"),
    entry('<img src=x onerror=alert("name")>.png', png(8, 8, rows(8, 8, gradient)), "kept"),
    entry("photo\u202Egnp.exe", png(8, 8, rows(8, 8, gradient)), "kept"),
    entry(`${"日本語の写真".repeat(33)}.png`, png(8, 8, rows(8, 8, gradient)), "kept"),
  ];
}
