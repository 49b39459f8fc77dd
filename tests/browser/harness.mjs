// The one way browser tests start opsdesk: a real server with demo data on a free port, and
// Debian's Chromium driven by playwright-core. `as(email, name, body)` runs `body` in a fresh
// signed-in page and leaves a screenshot in artifacts/ when it fails.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const PASSWORD = "opsdesk-demo";
const ARTIFACTS = join(import.meta.dirname, "artifacts");

function startServer(bin, dataDir) {
  return new Promise((resolve, reject) => {
    const server = spawn(bin, ["--data", dataDir, "--listen", "127.0.0.1:0", "serve", "--demo"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/running at (http:\/\/[^\s]+?)\/?\s/);
      if (m) { clearTimeout(timer); resolve({ server, base: m[1] }); }
    });
    server.on("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

/** Starts a demo desk and a browser; answers `{ base, as, cli, stop }`. */
export async function startDesk() {
  const bin = process.env.OPSDESK_BIN;
  assert.ok(bin, "OPSDESK_BIN must name the opsdesk binary");
  const dataDir = mkdtempSync(join(tmpdir(), "opsdesk-browser-"));
  const { server, base } = await startServer(bin, dataDir);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  } catch (err) {
    // Do not leave the server running (node would wait for it forever).
    server.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  async function as(email, name, body) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    try {
      await page.goto(`${base}/login`);
      await page.fill("input[name=email]", email);
      await page.fill("input[name=password]", PASSWORD);
      await page.click("button[type=submit]");
      await page.waitForLoadState("domcontentloaded");
      assert.ok(!page.url().includes("/login"), `sign-in as ${email} failed`);
      return await body(page);
    } catch (err) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.error(`screenshot of the failure: ${file}`);
      throw err;
    } finally {
      await context.close();
    }
  }
  /** Runs an `opsdesk` admin verb against the same data directory; answers its stdout. */
  function cli(args) {
    return new Promise((resolve, reject) => {
      execFile(bin, ["--data", dataDir, ...args], (err, stdout, stderr) =>
        err ? reject(new Error(`opsdesk ${args.join(" ")}: ${stderr}`)) : resolve(stdout));
    });
  }
  async function stop() {
    await browser.close();
    // Wait for the server to finish shutting down (its last search index commit and merges
    // write into the data directory) before removing the directory under it.
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    }
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
  return { base, as, cli, stop, browser };
}
