// Incidents in the browser: the war room of an incident raised by alerts (acknowledge, note,
// link a customer ticket, the live timeline), declaring from a ticket, and the operations page
// (a refused maintenance window names its fields; a new integration shows its URL once).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDesk } from "./harness.mjs";

let desk;
before(async () => { desk = await startDesk(); });
after(async () => desk?.stop());

test("the war room: acknowledge, note, link a ticket; the timeline keeps up", async () => {
  await desk.as("noah.l2@opsdesk.example", "incidents-01-war-room", async (page) => {
    await page.goto(`${desk.base}/incidents`);
    const row = page.locator("#incidents tr.row", { hasText: "Outbound mail queue" });
    assert.match(await row.textContent(), /SEV3/);
    assert.match(await row.textContent(), /triggered/);
    await row.locator("a").click();
    await page.waitForSelector("#incident-status");
    assert.equal((await page.textContent("#incident-status")).trim(), "triggered");
    assert.match(await page.textContent("#alerts"), /relay-1/);
    await page.click("button[data-move=acknowledged]");
    await page.waitForLoadState("domcontentloaded");
    assert.equal((await page.textContent("#incident-status")).trim(), "acknowledged");
    assert.match(await page.textContent("#timeline"), /Status triggered → acknowledged/);
    await page.fill("#note-form textarea", "Relay-1 blocked by the upstream's rate limit");
    await page.click("#note-form button");
    await page.waitForLoadState("domcontentloaded");
    assert.match(await page.textContent("#timeline"), /upstream's rate limit/);
    // A bad ticket number is refused with the field named; a real one links.
    await page.fill("input[name=ticket]", "not-a-number");
    await page.click("button:has-text('Link ticket')");
    await page.waitForSelector("#form-errors p[data-field=ticket]");
    await page.fill("input[name=ticket]", "1");
    await page.click("button:has-text('Link ticket')");
    await page.waitForSelector("#linked-tickets a");
    assert.match(await page.textContent("#linked-tickets"), /#1 /);
    // A note added elsewhere (the API, another responder) appears without a reload.
    const id = page.url().split("/").pop();
    const before = await page.locator("#timeline li").count();
    await desk.cli(["incident", "note", id, "--body", "Relay back under 100 queued"]);
    await page.waitForFunction((n) => document.querySelectorAll("#timeline li").length > n, before, { timeout: 15_000 });
    assert.match(await page.textContent("#timeline"), /Relay back under 100 queued/);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "war-room.png"), fullPage: true });
    }
  });
});

test("an agent declares an incident from a customer's ticket", async () => {
  await desk.as("liam.l1@opsdesk.example", "incidents-02-declare", async (page) => {
    await page.goto(`${desk.base}/desk?status=all&q=Label+printer`);
    await page.click("#queue-rows a:has-text('Label printer queue stuck')");
    await page.click("#incidents summary");
    await page.selectOption("#incidents select[name=severity]", "SEV2");
    await page.click("#incidents button:has-text('Declare')");
    await page.waitForSelector("#incident-status");
    assert.match(await page.textContent("h1"), /Label printer queue stuck/);
    assert.match(await page.textContent(".bar"), /SEV2/);
    assert.match(await page.textContent("#linked-tickets"), /Label printer queue stuck/);
    assert.match(await page.textContent("dl.facts"), /Liam First/);
  });
});

test("operations: maintenance refused with its fields, a new integration shows its URL once", async () => {
  await desk.as("admin@opsdesk.example", "incidents-03-operations", async (page) => {
    await page.goto(`${desk.base}/operations`);
    assert.match(await page.textContent("#services"), /billing-db/);
    assert.match(await page.textContent("#maintenance"), /Database patching/);
    await page.click("#maintenance summary");
    await page.fill("#maintenance input[name=title]", "Swap disks");
    await page.fill("#maintenance input[name=services]", "no-such-service");
    await page.fill("#maintenance input[name=starts_at]", "2026-12-05T02:00");
    await page.fill("#maintenance input[name=ends_at]", "2026-12-05T01:00");
    await page.fill("#maintenance input[name=zone]", "Europe/Berlin");
    await page.click("#maintenance button.primary");
    await page.waitForSelector("#form-errors");
    const fields = await page.locator("#form-errors p").evaluateAll((ps) => ps.map((p) => p.dataset.field).sort());
    assert.deepEqual(fields, ["ends_at", "services"]);
    await page.click("#integrations summary");
    await page.fill("#integrations input[name=name]", "Grafana EU");
    await page.selectOption("#integrations select[name=kind]", "grafana");
    await page.click("#integrations button.primary");
    await page.waitForSelector("#new-token");
    assert.match(await page.textContent("#new-token"), /\/hooks\/grafana\/[0-9a-f]{64}/);
    await page.goto(`${desk.base}/operations`);
    assert.equal(await page.locator("#new-token").count(), 0, "the token is shown only once");
    assert.match(await page.textContent("#integrations"), /Grafana EU/);
  });
});

test("on call: who is on call now, a refused then accepted contact method, pages in the war room", async () => {
  await desk.as("noah.l2@opsdesk.example", "incidents-04-oncall", async (page) => {
    await page.goto(`${desk.base}/oncall`);
    const schedule = page.locator("section.schedule", { hasText: "Platform primary" });
    assert.match(await schedule.locator(".now").textContent(), /On call now: \S+/);
    assert.ok(await schedule.locator(".shifts tbody tr").count() >= 2, "a week of shifts");
    assert.match(await page.textContent("#policies"), /schedule:Platform primary/);
    await page.fill("#contact input[name=address]", "not a url");
    await page.click("#contact button");
    await page.waitForSelector("#form-errors p[data-field=address]");
    await page.fill("#contact input[name=address]", "https://hooks.example/noah");
    await page.click("#contact button");
    await page.waitForSelector("#contact li .tag");
    assert.match(await page.textContent("#contact"), /hooks\.example\/noah/);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "oncall.png"), fullPage: true });
    }
    await page.goto(`${desk.base}/incidents?status=all`);
    await page.click("#incidents a:has-text('Disk /var/lib/postgresql')");
    await page.waitForSelector("#pages");
    assert.match(await page.textContent("#pages"), /level 1 · round 1/);
    assert.match(await page.textContent("#paging"), /stopped: investigating/);
  });
});

test("a public update from the war room appears on the public status page", async () => {
  await desk.as("olga.l3@opsdesk.example", "incidents-05-public-update", async (page) => {
    await page.goto(`${desk.base}/incidents`);
    await page.click("#incidents a:has-text('Disk /var/lib/postgresql')");
    await page.click("#public-update summary");
    await page.fill("#public-update input[name=title]", "Invoices delayed");
    await page.selectOption("#public-update select[name=status]", "identified");
    await page.selectOption("#public-update select[name=impact]", "degraded");
    await page.fill("#public-update textarea", "Invoice generation is delayed; no data is lost.");
    await page.click("#public-update button");
    await page.waitForLoadState("domcontentloaded");
    assert.equal((await page.textContent("#incident-status")).trim(), "identified");
  });
  const browser = desk.browser;
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const visitor = await context.newPage();
  try {
    await visitor.goto(`${desk.base}/status`);
    assert.match(await visitor.textContent("#overall"), /Partial outage|Degraded/);
    const incident = visitor.locator(".public-incident", { hasText: "Invoices delayed" });
    assert.match(await incident.textContent(), /Invoice generation is delayed/);
    assert.doesNotMatch(await visitor.content(), /var\/lib\/postgresql|WAL archiving/);
    const billing = visitor.locator(".component", { hasText: "billing-db" });
    assert.match(await billing.locator(".cstatus").textContent(), /Degraded performance/);
    assert.equal(await billing.locator(".history .day").count(), 90);
    if (process.env.SCREENSHOT_DIR) {
      await visitor.screenshot({ path: join(process.env.SCREENSHOT_DIR, "status.png"), fullPage: true });
    }
  } finally {
    await context.close();
  }
});

test("the review editor keeps typed text on a refusal and tracks action items", async () => {
  await desk.as("noah.l2@opsdesk.example", "incidents-06-review", async (page) => {
    await page.goto(`${desk.base}/incidents?status=all`);
    await page.click("#incidents a:has-text('Outbound mail queue')");
    await page.click("#review-link");
    await page.fill("#review-form textarea[name=went_well]", "Paged within a minute");
    await page.check("#review-form input[name=published]");
    await page.click("#review-form button.primary");
    await page.waitForSelector("#form-errors p[data-field=summary]");
    assert.equal(await page.inputValue("#review-form textarea[name=went_well]"), "Paged within a minute");
    await page.uncheck("#review-form input[name=published]");
    await page.click("#review-form button.primary");
    await page.waitForLoadState("domcontentloaded");
    assert.match(await page.textContent(".bar .badge"), /draft/);
    assert.match(await page.inputValue("#review-form textarea[name=timeline]"), /triggered: Outbound mail queue/);
    await page.fill("#new-action-item input[name=title]", "Alert on relay queue growth rate");
    await page.fill("#new-action-item input[name=due]", "2026-01-05");
    await page.fill("#new-action-item input[name=verification]", "A replayed spike pages within 5 minutes");
    await page.click("#new-action-item button");
    await page.waitForSelector("#action-items tr.overdue");
    await page.click("#action-items button[data-move=done]");
    await page.waitForLoadState("domcontentloaded");
    assert.match(await page.textContent("#action-items"), /done/);
  });
});
