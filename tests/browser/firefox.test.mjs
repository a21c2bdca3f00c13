// The page in a second engine: Debian's Firefox ESR, driven through WebDriver BiDi by
// puppeteer-core (never a downloaded browser). The student's flow on the CPU path: upload real
// photos into three classes, train, classify the held-out photos, reload and find the work
// saved. Firefox offers no WebGPU here, and the page says so and carries on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { basename } from "node:path";
import puppeteer from "puppeteer-core";
import { serveDist, photos } from "./harness.mjs";

const WAIT_MS = 300_000;
const classes = ["bird", "flower", "fruit"];
const session = {};

before(async () => {
  session.server = await serveDist();
  session.browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
    headless: true,
  });
});
after(async () => {
  await session.browser?.close();
  await session.server?.close();
});

const counts = (page) => page.$$eval('[data-testid="class-count"]', (nodes) => nodes.map((n) => n.textContent));

test("in Firefox a student trains on uploaded photos, classifies held-out ones and finds the work after a reload", { timeout: WAIT_MS * 3 }, async () => {
  const page = await session.browser.newPage();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
  const started = Date.now();
  await page.goto(`${session.server.origin}/`);
  await page.waitForSelector('[data-testid="ready"]', { timeout: WAIT_MS });
  const readyMs = Date.now() - started;
  assert.equal(await page.$eval('[data-testid="backend"]', (n) => n.dataset.path), "CPU");
  assert.match(await page.evaluate(() => document.body.innerText), /does not offer WebGPU/, "the page says why it runs on the CPU");

  await page.click('[data-testid="add-class"]');
  const cards = await page.$$('[data-testid="class-card"]');
  assert.equal(cards.length, 3);
  const uploadStarted = Date.now();
  for (const [i, name] of classes.entries()) {
    const field = await cards[i].$('[data-testid="class-name"]');
    await field.click({ count: 3 });
    await field.type(name);
    await field.press("Enter");
    const upload = await cards[i].$('[data-testid="class-upload"]');
    await upload.uploadFile(...(await photos("www/samples", name)));
  }
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="class-count"]')].every((n) => n.textContent === "5 photos") && !document.querySelector('[data-testid="pending-photos"]'),
    { timeout: WAIT_MS, polling: 100 },
  );
  const uploadMs = Date.now() - uploadStarted;

  const trainStarted = Date.now();
  await page.click('[data-testid="train"]');
  await page.waitForFunction(() => ["done", "error"].includes(document.querySelector('[data-testid="train-status"]')?.dataset.state), { timeout: WAIT_MS, polling: 100 });
  assert.equal(await page.$eval('[data-testid="train-status"]', (n) => n.dataset.state), "done");
  const trainMs = Date.now() - trainStarted;

  const heldOut = [];
  for (const name of classes) for (const file of await photos("tests/photos/held-out", name)) heldOut.push({ file, name });
  const classify = async () => {
    await (await page.$('[data-testid="predict-upload"]')).uploadFile(...heldOut.map((p) => p.file));
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="prediction"]').length === n, { timeout: WAIT_MS, polling: 100 }, heldOut.length);
    return page.$$eval('[data-testid="prediction"]', (nodes) => Object.fromEntries(nodes.map((n) => [n.dataset.file, n.dataset.label])));
  };
  const labels = await classify();
  const correct = heldOut.filter((p) => labels[basename(p.file)] === p.name).length;
  console.log("firefox:", JSON.stringify({ browser: await session.browser.version(), readyMs, uploadMs, trainMs, correct, of: heldOut.length }));
  assert.ok(correct >= 12, `${correct} of ${heldOut.length} held-out photos right`);

  // The work is saved in Firefox's IndexedDB too: a reload brings back the classes, the photos
  // and the model, which classifies exactly as before.
  assert.equal(await page.$eval('[data-testid="storage"]', (n) => n.dataset.state), "saving");
  await page.reload();
  await page.waitForSelector('[data-testid="ready"]', { timeout: WAIT_MS });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="class-count"]').length === 3, { timeout: WAIT_MS, polling: 100 });
  assert.deepEqual(await counts(page), ["5 photos", "5 photos", "5 photos"]);
  assert.deepEqual(await classify(), labels);
  assert.deepEqual(errors, []);
  await page.close();
});
