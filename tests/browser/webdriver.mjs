// Safari's engine on Debian: WebKitGTK's MiniBrowser under Xvfb, driven by its WebKitWebDriver
// over plain W3C WebDriver (HTTP + JSON from Node's fetch; no client library, no downloaded
// browser). Only what the tests use: navigate, find, click, type, upload, run a script, read a
// download.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { access } from "node:fs/promises";

const DRIVER = process.env.WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver";
const MINIBROWSER = process.env.WEBKIT_BROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
/** The W3C name of an element reference in a WebDriver answer. */
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

/** Starts a process and resolves once `ready` (polled) says it is up; it is killed on failure. */
async function startProcess(command, args, env, ready) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  for (let tries = 0; tries < 100; tries += 1) {
    if (child.exitCode !== null) break;
    if (await ready().catch(() => false)) return { child, exited };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`${command} did not start: ${stderr}`);
}

/** Whether this machine has WebKitGTK's driver and browser (scripts/setup.sh installs them). */
export async function webkitInstalled() {
  return Promise.all([access(DRIVER), access(MINIBROWSER)]).then(() => true, () => false);
}

/** Starts Xvfb and WebKitWebDriver and opens one MiniBrowser session on a 1200 × 1000 window.
 * Its data lives only as long as the session, as in a private window. */
export async function launchWebKit() {
  // Xvfb picks a free display itself and writes its number to the file descriptor it is given.
  const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"], { stdio: ["ignore", "ignore", "pipe", "pipe"] });
  const display = await new Promise((resolve, reject) => {
    let text = "";
    xvfb.stdio[3].on("data", (chunk) => {
      text += chunk;
      if (text.includes("\n")) resolve(`:${text.trim()}`);
    });
    xvfb.once("exit", (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let driver;
  try {
    driver = await startProcess(DRIVER, [`--port=${port}`], { DISPLAY: display }, async () => (await (await fetch(`${base}/status`)).json()).value.ready);
  } catch (error) {
    xvfb.kill();
    throw error;
  }
  const capabilities = { alwaysMatch: { "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } } };
  const created = await command(base, "POST", "/session", { capabilities });
  const browser = new WebKitSession(`${base}/session/${created.sessionId}`, created.capabilities);
  await browser.send("POST", "/window/rect", { width: 1200, height: 1000 });
  browser.close = async () => {
    await command(base, "DELETE", `/session/${created.sessionId}`).catch(() => {});
    driver.child.kill();
    await driver.exited;
    xvfb.kill();
  };
  return browser;
}

async function command(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`WebDriver ${method} ${path}: ${answer.value?.error}: ${answer.value?.message}`);
  return answer.value;
}

/** One WebDriver session: a MiniBrowser window. */
class WebKitSession {
  constructor(url, capabilities) {
    this.url = url;
    this.version = `${capabilities.browserName} ${capabilities.browserVersion}`;
  }

  send(method, path, body) {
    return command(this.url, method, path, body);
  }

  navigate(url) {
    return this.send("POST", "/url", { url });
  }

  reload() {
    return this.send("POST", "/refresh", {});
  }

  /** Runs `script` (a function's source) with `args` in the page and returns its result. */
  run(script, ...args) {
    return this.send("POST", "/execute/sync", { script: `return (${script}).apply(null, arguments)`, args });
  }

  /** Polls `script` in the page until it returns something truthy, and returns that. */
  async waitFor(script, { args = [], timeout = 300_000, what = script } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await this.run(script, ...args);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The elements with this `data-testid`, as WebDriver references (inside `within`, if given). */
  async byTestId(testId, within) {
    const path = within ? `/element/${within[ELEMENT]}/elements` : "/elements";
    return this.send("POST", path, { using: "css selector", value: `[data-testid="${testId}"]` });
  }

  async one(testId, within) {
    const [element] = await this.byTestId(testId, within);
    if (!element) throw new Error(`no [data-testid="${testId}"] on the page`);
    return element;
  }

  async click(testId, within) {
    const element = await this.one(testId, within);
    await this.send("POST", `/element/${element[ELEMENT]}/click`, {});
  }

  /** Replaces what a text field holds with `text` as a person would (select it all, type over
   * it) and presses Enter. (Element Clear sends a change of its own: the page turns an empty
   * name back into the old one.) */
  async type(element, text) {
    await this.send("POST", `/element/${element[ELEMENT]}/click`, {});
    await this.run((field) => field.select(), element);
    await this.send("POST", `/element/${element[ELEMENT]}/value`, { text: `${text}\uE007` });
  }

  /** Chooses `files` (absolute paths) in a file input, as a student picking them would. */
  async upload(testId, files, within) {
    const input = await this.one(testId, within);
    await this.send("POST", `/element/${input[ELEMENT]}/value`, { text: files.join("\n") });
  }

  /** Answers the page's `confirm()` with OK. */
  acceptDialog() {
    return this.send("POST", "/alert/accept", {});
  }

  /** Makes every file the page offers for download land in `window.__downloads` instead (the
   * page saves through a link with `download`; this WebKit's automation has no downloads). */
  catchDownloads() {
    return this.run(() => {
      window.__downloads = [];
      HTMLAnchorElement.prototype.click = function () {
        const name = this.download;
        window.__downloads.push(
          fetch(this.href)
            .then((response) => response.blob())
            .then((blob) => new Promise((resolve) => {
              const reader = new FileReader();
              reader.onload = () => resolve({ name, base64: reader.result.slice(reader.result.indexOf(",") + 1) });
              reader.readAsDataURL(blob);
            })),
        );
      };
    });
  }

  /** Waits for the `index`th file the page offered since `catchDownloads` and returns it. */
  async download(index) {
    await this.waitFor((i) => window.__downloads.length > i, { args: [index], what: "a download" });
    const { name, base64 } = await this.send("POST", "/execute/async", {
      script: "window.__downloads[arguments[0]].then(arguments[arguments.length - 1])",
      args: [index],
    });
    return { name, bytes: Buffer.from(base64, "base64") };
  }

  async screenshot() {
    return Buffer.from(await this.send("GET", "/screenshot"), "base64");
  }
}
