// The knowledge base and search in the browser: the portal's suggestions while a customer
// types a subject (and the deflection they count), writing an article and restoring an old
// version, search as you type with permissions, and articles suggested beside a ticket.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDesk } from "./harness.mjs";

let desk;
before(async () => { desk = await startDesk(); });
after(async () => desk?.stop());

test("a customer typing a subject is offered an article and needs no request", async () => {
  // Dan, not Carol: the demo already counts Carol's deflection today (once a day per reader).
  await desk.as("dan@acme.example", "kb-01-suggest", async (page) => {
    await page.goto(`${desk.base}/portal/new`);
    await page.locator("input[name=subject]").pressSequentially("label printer blank", { delay: 20 });
    const suggestion = page.locator("#suggestions a", { hasText: "Label printer prints blank labels" });
    await suggestion.waitFor();
    assert.match(await suggestion.innerHTML(), /<mark>/, "the typed words are marked");
    await suggestion.click();
    await page.waitForSelector("#article-body");
    assert.match(await page.textContent("#article-body"), /calibration/);
    await page.click("#deflect button");
    await page.waitForSelector("p.notice");
    assert.match(await page.textContent("p.notice"), /no request needed/);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "help-article.png"), fullPage: true });
    }
  });
  // The deflection is counted where the desk sees it (the demo already had one).
  await desk.as("manager@opsdesk.example", "kb-01-count", async (page) => {
    await page.goto(`${desk.base}/desk/kb?filter=published`);
    const row = page.locator("#articles tr", { hasText: "Label printer prints blank labels" });
    assert.equal((await row.locator("td").nth(7).textContent()).trim(), "2");
  });
});

test("an article is written, changed, and an old version restored", async () => {
  await desk.as("noah.l2@opsdesk.example", "kb-02-versions", async (page) => {
    await page.goto(`${desk.base}/desk/kb`);
    await page.click("#new-article");
    // A refused article names its field and keeps what was typed.
    await page.fill("#article-form input[name=title]", "Printing from the tablet");
    await page.fill("#article-form textarea[name=body]", "   ");
    await page.evaluate(() => document.querySelector("#article-form textarea[name=body]").removeAttribute("required"));
    await page.click("#article-form button[value=true]");
    await page.waitForSelector("#form-errors p[data-field=body]");
    assert.equal(await page.inputValue("#article-form input[name=title]"), "Printing from the tablet");
    await page.fill("#article-form textarea[name=body]", "Use the **Print** button <script>alert(1)</script> in the app.");
    await page.selectOption("#article-form select[name=visibility]", "public");
    await page.click("#article-form button[value=true]");
    await page.waitForSelector("#article-body");
    assert.equal(await page.locator("#article-body strong").textContent(), "Print");
    assert.equal(await page.locator("#article-body script").count(), 0, "no script from content");
    assert.equal((await page.textContent("#article-status")).trim(), "published");
    // A second version, saved as a draft: readers still see the first.
    await page.click("#edit-article");
    await page.fill("#article-form textarea[name=body]", "Tap **Share → Print** and choose the depot printer.");
    await page.fill("#article-form input[name=note]", "New app menu");
    await page.click("#article-form button[value=false]");
    await page.waitForSelector("#publish-article");
    assert.match(await page.textContent("#article-body"), /Share → Print/);
    const id = page.url().split("/").pop();
    // The history shows the change; version 1 comes back as version 3.
    await page.click("#versions a:has-text('Version 2')");
    await page.waitForSelector("#diff");
    assert.match(await page.textContent("#diff .add"), /Share → Print/);
    assert.match(await page.textContent("#diff .del"), /Use the \*\*Print\*\* button/);
    await page.goto(`${desk.base}/desk/kb/${id}/versions/1`);
    await page.click("#restore-version");
    await page.waitForSelector("#versions");
    assert.match(await page.textContent("#versions"), /Version 3/);
    assert.match(await page.textContent("#versions"), /Restored version 1/);
    assert.match(await page.textContent("#article-body"), /Use the Print button/);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "kb-article.png"), fullPage: true });
    }
  });
});

test("search as you type finds what each person may see", async () => {
  await desk.as("liam.l1@opsdesk.example", "kb-03-search", async (page) => {
    await page.goto(`${desk.base}/search`);
    await page.locator("#q").pressSequentially("carrier", { delay: 20 });
    await page.waitForSelector("#results .hit-article");
    const staffText = await page.textContent("#results");
    assert.match(staffText, /Restarting the tracking ingest workers/, "internal articles for staff");
    assert.doesNotMatch(staffText, /Rotating the carrier API keys/, "an L2 article is not for L1");
    assert.match(page.url(), /q=carrier/, "the address holds the search");
    await page.selectOption("select[name=kind]", "ticket");
    await page.waitForFunction(() => !document.querySelector("#results .hit-article"));
  });
  await desk.as("carol@acme.example", "kb-03-customer", async (page) => {
    await page.goto(`${desk.base}/search?q=password`);
    const text = await page.textContent("#results");
    assert.match(text, /Reset your password/);
    const links = await page.locator("#results a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    assert.ok(links.length > 0);
    for (const href of links) {
      // Their tickets, public articles, or more results of the same search.
      assert.ok(href.startsWith("/portal/tickets/") || href.startsWith("/help/articles/")
        || href.startsWith("/search?q=password&"), href);
    }
  });
});

test("beside a ticket: suggested articles, a link inserted into the reply", async () => {
  await desk.as("liam.l1@opsdesk.example", "kb-04-related", async (page) => {
    await page.goto(`${desk.base}/desk?status=all&q=password`);
    await page.click("#queue-rows a >> nth=0");
    await page.waitForSelector("#related");
    const suggested = page.locator("#related li[data-article]", { hasText: "Reset your password" });
    await suggested.waitFor();
    const linked = page.waitForResponse((r) => r.url().includes("/articles") && r.request().method() === "POST");
    await suggested.locator(".insert-article").click();
    assert.equal((await linked).status(), 204);
    assert.match(await page.inputValue("#reply textarea"), /\[Reset your password\]\(http.*\/help\/articles\/\d+\)/);
  });
});

test("a runbook is run inside a ticket, step by step", async () => {
  await desk.as("liam.l1@opsdesk.example", "kb-05-runbook", async (page) => {
    await page.goto(`${desk.base}/desk?status=all&q=password`);
    await page.click("#queue-rows a >> nth=0");
    await page.waitForSelector("#runbooks-panel");
    const option = page.locator("#runbooks-panel select[name=runbook] option", { hasText: "Password reset for a locked account" });
    await page.selectOption("#runbooks-panel select[name=runbook]", await option.getAttribute("value"));
    await page.click("#runbooks-panel .start-run button");
    const run = page.locator("#runbooks-panel .run").last();
    await run.waitFor();
    assert.match(await run.locator("h3").textContent(), /0\/3 steps/, "an unfinished run shows how far it got");
    await run.locator("li[data-step='1'] input[name=note]").fill("Order 4411 confirmed");
    await run.locator("li[data-step='1'] button[value=done]").click();
    await page.waitForFunction(() => document.querySelector("#runbooks-panel .run:last-of-type li[data-step='1']")?.classList.contains("step-done"));
    await page.locator("#runbooks-panel .run").last().locator("li[data-step='2'] button[value=skipped]").click();
    await page.waitForFunction(() => document.querySelector("#runbooks-panel .run:last-of-type li[data-step='2']")?.classList.contains("step-skipped"));
    await page.locator("#runbooks-panel .run").last().locator("li[data-step='3'] button[value=done]").click();
    await page.waitForSelector("#runbooks-panel .run[data-finished=true]");
    const last = page.locator("#runbooks-panel .run").last();
    assert.match(await last.textContent(), /Order 4411 confirmed/);
    assert.match(await last.textContent(), /Liam First/, "who did each step");
    // The timeline keeps the record.
    await page.reload();
    await page.waitForSelector("#timeline");
    const timeline = await page.textContent("#timeline");
    assert.match(timeline, /started the runbook “Password reset for a locked account”/);
    assert.match(timeline, /skipped step 2: Unlock the account/);
    assert.match(timeline, /finished the runbook/);
  });
});

test("scheduled checks show late and missed occurrences", async () => {
  await desk.as("manager@opsdesk.example", "kb-06-checks", async (page) => {
    await page.goto(`${desk.base}/checks`);
    assert.ok(await page.locator("#checks .occ[data-state=missed]").count() > 0, "the demo has missed occurrences");
    assert.ok(await page.locator("#checks .occ[data-state=done]").count() > 0);
    // A rule the scheduler cannot follow is refused by name.
    await page.click("#new-check summary");
    await page.fill("#check-form input[name=name]", "Failover test");
    await page.fill("#check-form input[name=start]", "2027-01-04T10:00");
    await page.fill("#check-form input[name=rrule]", "FREQ=YEARLY");
    await page.click("#check-form button[type=submit]");
    await page.waitForSelector("#form-errors p[data-field=rrule]");
    await page.fill("#check-form input[name=name]", "Failover test");
    await page.fill("#check-form input[name=start]", "2027-01-04T10:00");
    await page.fill("#check-form input[name=rrule]", "FREQ=MONTHLY;BYDAY=1MO");
    await page.click("#check-form button[type=submit]");
    await page.waitForSelector("#checks tr:has-text('Failover test')");
    assert.match(await page.textContent("#checks tr:has-text('Failover test')"), /Mon 2027-01-04 10:00 CET/);
    // Paused from its row: no next occurrence, marked paused.
    const row = page.locator("#checks tr:has-text('Failover test')");
    await row.locator("details summary").click();
    await row.locator("input[name=active]").uncheck();
    await row.locator("form.check-edit button[type=submit]").click();
    await page.waitForSelector("#checks tr:has-text('Failover test') .badge:has-text('paused')");
    assert.doesNotMatch(await page.textContent("#checks tr:has-text('Failover test')"), /2027-01-04 10:00 CET/);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "checks.png"), fullPage: true });
    }
  });
});
