// Mail in the browser: the admin's mail page (mailbox form errors by field, a new mailbox,
// a refused template), a ticket opened by mail (folded quote, attachment, headers page), and
// the customer's view of it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDesk } from "./harness.mjs";

let desk;
before(async () => { desk = await startDesk(); });
after(async () => desk?.stop());

test("the mail page: mailboxes, the mail log, templates", async () => {
  await desk.as("admin@opsdesk.example", "mail-01-admin", async (page) => {
    await page.goto(`${desk.base}/admin/mail`);
    assert.match(await page.textContent("#mailboxes"), /support@opsdesk\.example/);
    // The demo's unreadable message and the out-of-office answer are in the log.
    await page.waitForSelector("#mail-log tr[data-state=unparseable]");
    await page.waitForSelector("#mail-log tr[data-state=ignored]");
    // A bad mailbox names its fields and changes nothing.
    await page.click("#mailboxes summary");
    await page.fill("#mailbox-form input[name=name]", "Billing");
    await page.fill("#mailbox-form input[name=address]", "billing-at-example");
    await page.fill("#mailbox-form input[name=imap_host]", "imap.example.com");
    await page.evaluate(() => { document.querySelector("#mailbox-form input[name=address]").type = "text"; });
    await page.click("#mailbox-form button[type=submit]");
    await page.waitForSelector("#form-errors p[data-field=address]");
    assert.ok(await page.locator("#form-errors p[data-field='imap.user']").count() === 1);
    assert.equal(await page.locator("tr[data-mailbox=Billing]").count(), 0);
    // A good one is listed with its server (the form stays open after a refusal).
    await page.fill("#mailbox-form input[name=name]", "Billing");
    await page.fill("#mailbox-form input[name=address]", "billing@opsdesk.example");
    await page.fill("#mailbox-form input[name=imap_host]", "imap.example.com");
    await page.fill("#mailbox-form input[name=imap_user]", "billing");
    await page.click("#mailbox-form button[type=submit]");
    await page.waitForSelector("tr[data-mailbox=Billing]");
    assert.match(await page.textContent("tr[data-mailbox=Billing]"), /imap\.example\.com:993 \(tls\)/);
    // A template with an unknown placeholder is refused.
    await page.click("details[data-template=reply] summary");
    await page.fill("details[data-template=reply] textarea", "{{ ticket.secret }}");
    await page.click("details[data-template=reply] button");
    await page.waitForSelector("#form-errors p[data-field=body]");
    assert.match(await page.textContent("#form-errors"), /ticket\.secret/);
  });
});

test("a ticket opened by mail: folded quote, attachment, headers", async () => {
  await desk.as("lena.l0@opsdesk.example", "mail-02-ticket", async (page) => {
    await page.goto(`${desk.base}/desk?status=all&q=bay+4`);
    await page.click("#queue-rows a:has-text('Label printer in bay 4')");
    await page.waitForSelector("#timeline");
    const timeline = await page.textContent("#timeline");
    assert.match(timeline, /mail from carol@acme\.example with 1 attachment/);
    assert.match(timeline, /Bay 5 has the same problem now\./);
    const quote = page.locator("#timeline details.quoted").first();
    assert.equal(await quote.getAttribute("open"), null, "quoted history starts folded");
    await quote.locator("summary").click();
    assert.match(await quote.textContent(), /feeds blank labels/);
    assert.match(await page.textContent("#mail"), /printer-log\.txt/);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "mail-ticket.png"), fullPage: true });
    }
    await page.click("#timeline a:has-text('headers and delivery')");
    await page.waitForSelector("#mail-headers");
    assert.match(await page.textContent("#mail-headers"), /Message-ID: <demo-1@acme\.example>/);
    assert.equal((await page.textContent("#mail-state")).trim(), "received");
  });
});

test("the customer sees the attachment and no internal mail details", async () => {
  await desk.as("carol@acme.example", "mail-03-portal", async (page) => {
    await page.goto(`${desk.base}/portal`);
    await page.click("a:has-text('Label printer in bay 4')");
    await page.waitForSelector("#attachments");
    const link = page.locator("#attachments a", { hasText: "printer-log.txt" });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    assert.equal(download.suggestedFilename(), "printer-log.txt");
    assert.equal(await page.locator("a:has-text('headers and delivery')").count(), 0);
  });
});
