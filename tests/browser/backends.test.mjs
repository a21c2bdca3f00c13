// WebGPU and the CPU give the same numbers on the same real photo. On a machine whose only
// adapter is software (SwiftShader here) this still runs, slowly; with no adapter at all it is
// reported as skipped, never silently passed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serveDist, launchBrowser, openPage, screenshot } from "./harness.mjs";

const CHECK_MS = 300_000;
let server;
let browser;

before(async () => {
  server = await serveDist();
  browser = await launchBrowser({ webgpu: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("WebGPU and CPU agree on a real photo's embedding and on a head's predictions", { timeout: CHECK_MS + 60_000 }, async (t) => {
  const { page } = await openPage(browser, server.origin, "?check=backends");
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
