// SLA in the browser: the at-risk view lists clocks near their next level and keeps itself
// current; the ticket page shows every clock with its explanation; a manager edits a policy
// on the SLA page and a bad level line is refused with the field named.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDesk } from "./harness.mjs";

let desk;
before(async () => { desk = await startDesk(); });
after(async () => desk?.stop());

test("the at-risk view lists the urgent demo ticket and refreshes itself", async () => {
  await desk.as("manager@opsdesk.example", "sla-01-at-risk", async (page) => {
    await page.goto(`${desk.base}/desk/at-risk?within=60`);
    const row = page.locator("#at-risk-rows tr.row", { hasText: "Checkout returns 502" }).first();
    await row.waitFor();
    assert.match(await row.textContent(), /First response/);
    assert.match(await row.locator(".sla").textContent(), /(breach|level) in \d+m|overdue/);
    const before = await page.textContent("#at-risk-rows .muted");
    await page.waitForFunction(
      (text) => document.querySelector("#at-risk-rows .muted")?.textContent !== text,
      before, { timeout: 20_000 });
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "at-risk.png") });
    }
  });
});

test("the ticket page explains each clock, including a pause", async () => {
  await desk.as("lena.l0@opsdesk.example", "sla-02-ticket", async (page) => {
    await page.goto(`${desk.base}/desk?status=all&q=Password+reset+mail`);
    await page.click("#queue-rows a:has-text('Password reset mail never arrives')");
    const panel = page.locator("#sla");
    await panel.waitFor();
    assert.match(await panel.locator("h3").textContent(), /SLA · /);
    const resolution = panel.locator(".clock", { hasText: "Resolution" });
    assert.equal(await resolution.getAttribute("data-state"), "paused");
    assert.match(await resolution.locator(".explain").textContent(), /paused \S+.* while waiting on customer/);
    const first = panel.locator(".clock", { hasText: "First response" });
    assert.equal(await first.getAttribute("data-state"), "met");
    assert.match(await page.textContent(".bar .status"), /pending – waiting on customer/);
  });
});

test("the queue sorts by SLA due with colours", async () => {
  await desk.as("lena.l0@opsdesk.example", "sla-03-queue", async (page) => {
    await page.goto(`${desk.base}/desk?status=active&sort=due`);
    const first = page.locator("#queue-rows tr.row").first();
    assert.match(await first.locator(".sla").getAttribute("class"), /sla-(breached|warning|ok)/);
    const states = await page.locator("#queue-rows tr.row .sla").evaluateAll(
      (els) => els.map((e) => e.className));
    assert.ok(states.length > 0);
    const rank = (c) => (c.includes("breached") ? 0 : 1);
    for (let i = 1; i < states.length; i++) {
      assert.ok(rank(states[i - 1]) <= rank(states[i]), `breached rows come first: ${states.join(" | ")}`);
    }
  });
});

test("a manager edits a policy; a bad level is refused with the field named", async () => {
  await desk.as("manager@opsdesk.example", "sla-04-policy", async (page) => {
    await page.goto(`${desk.base}/admin/sla`);
    const edit = page.locator("details", { hasText: "Edit “Standard”" });
    await edit.locator("summary").click();
    await edit.locator("textarea[name=levels]").fill("soon: notify_assignee");
    await edit.locator("button[type=submit]").click();
    const error = page.locator("#form-errors [data-field='levels.at']");
    await error.waitFor();
    assert.match(await error.textContent(), /'soon' is not a level point/);
    await page.goto(`${desk.base}/admin/sla`);
    const again = page.locator("details", { hasText: "Edit “Standard”" });
    await again.locator("summary").click();
    await again.locator("textarea[name=levels]").fill("100%: add_tag=sla-breach\n+2h resolution: notify_team_managers");
    await again.locator("button[type=submit]").click();
    await page.waitForURL(/\/admin\/sla$/);
    assert.match(await page.textContent("#jobs"), /policy 'Standard' changed/);
    assert.match(await page.locator("details", { hasText: "Edit “Standard”" }).locator("textarea[name=levels]").inputValue(),
      /\+2h resolution: notify_team_managers/);
  });
});

test("a ticket waiting on a vendor shows the vendor's clocks; 'Vendor responded' stops one", async () => {
  await desk.as("lena.l0@opsdesk.example", "sla-05-vendor", async (page) => {
    await page.goto(`${desk.base}/desk?status=all&q=Carrier+API+rejects`);
    await page.click("#queue-rows a:has-text('Carrier API rejects our new token')");
    const panel = page.locator("#sla");
    await panel.waitFor();
    const response = panel.locator(".clock", { hasText: "Vendor response" });
    assert.match(await response.locator(".explain").textContent(), /\(Carrier Co\)/);
    assert.notEqual(await response.getAttribute("data-state"), "met");
    await page.click("#vendor-responded button");
    await page.waitForLoadState("domcontentloaded");
    const after = page.locator("#sla .clock", { hasText: "Vendor response" });
    assert.match(await after.locator("p").first().textContent(), /met|breached by/);
    assert.equal(await page.locator("#vendor-responded").count(), 1, "still waiting on the vendor for resolution");
    assert.match(await page.locator("#timeline").textContent(), /vendor_responded/);
  });
});
