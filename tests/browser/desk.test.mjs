// Browser scenarios in headless Chromium against a real opsdesk server with demo data:
// a customer opens a ticket in the portal; L0 routes it to L1; an L1 agent replies publicly,
// adds an internal note and escalates to L2 with a reason; the customer sees the public reply
// and never the note. A failed step leaves a screenshot in artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDesk } from "./harness.mjs";

let desk, base, as;
before(async () => {
  desk = await startDesk();
  base = desk.base;
  as = desk.as;
});
after(async () => desk?.stop());

const SUBJECT = `Label printer rejects jobs ${Date.now()}`;
const PUBLIC_REPLY = "Please power-cycle the printer and send the test page.";
const INTERNAL_NOTE = "Firmware 2.1 known issue KE-17; do not mention the vendor.";
let ticketPath;

test("customer opens a ticket in the portal", async () => {
  await as("carol@acme.example", "01-portal-new", async (page) => {
    await page.click("text=New request");
    await page.fill("input[name=subject]", SUBJECT);
    await page.selectOption("select[name=category]", "bug");
    await page.fill("textarea[name=body]", "Every job since this morning fails with error 0x31.");
    await page.click("#new-ticket button[type=submit]");
    await page.waitForURL(/\/portal\/tickets\/\d+$/);
    ticketPath = new URL(page.url()).pathname.replace("/portal/", "/desk/");
    assert.equal(await page.textContent("h1"), `#${ticketPath.split("/").pop()} ${SUBJECT}`);
    await page.goto(`${base}/portal`);
    assert.ok(await page.isVisible(`text=${SUBJECT}`));
  });
});

test("the portal refuses an empty request and names the field", async () => {
  await as("carol@acme.example", "02-portal-invalid", async (page) => {
    await page.goto(`${base}/portal/new`);
    await page.fill("input[name=subject]", "No description");
    await page.$eval("textarea[name=body]", (el) => el.removeAttribute("required"));
    await page.click("#new-ticket button[type=submit]");
    assert.match(await page.textContent('[data-field="body"]'), /must not be empty/);
  });
});

test("L0 routes the ticket to L1 with a reason", async () => {
  await as("lena.l0@opsdesk.example", "03-l0-escalate", async (page) => {
    await page.goto(`${base}${ticketPath}`);
    await page.fill("#escalate textarea[name=reason]", "Hardware fault needs L1");
    await page.fill("#escalate textarea[name=tried]", "Confirmed printer model and error code");
    await page.click("#escalate button[type=submit]");
    await page.waitForLoadState("domcontentloaded");
    assert.ok(await page.isVisible("text=escalated from Service Desk (L0) to Support L1 (L1)"));
  });
});

test("L1 agent finds it in the queue, replies publicly and adds an internal note", async () => {
  await as("liam.l1@opsdesk.example", "04-l1-reply", async (page) => {
    await page.goto(`${base}/desk?team=Support+L1&status=active&sort=newest`);
    await page.click(`text=${SUBJECT}`);
    await page.waitForURL(new RegExp(`${ticketPath}$`));
    await page.fill("#reply textarea[name=body]", PUBLIC_REPLY);
    await page.click("#reply button[type=submit]");
    await page.waitForLoadState("domcontentloaded");
    await page.check("#reply input[name=internal][value=true]");
    await page.fill("#reply textarea[name=body]", INTERNAL_NOTE);
    await page.click("#reply button[type=submit]");
    await page.waitForLoadState("domcontentloaded");
    const note = page.locator(".item.note", { hasText: INTERNAL_NOTE });
    assert.equal(await note.count(), 1);
    assert.ok(await note.locator(".badge", { hasText: "internal" }).isVisible());
    assert.equal(await page.locator(".item.msg", { hasText: PUBLIC_REPLY }).count(), 1);
    assert.equal((await page.textContent(".bar .status")).trim(), "open");
    // The ticket is about a service.
    await page.selectOption("#triage select[name=service]", "checkout-web");
    await page.click("#triage button[type=submit]");
    await page.waitForLoadState("domcontentloaded");
    assert.equal((await page.textContent("#ticket-service")).trim(), "checkout-web");
    assert.equal(await page.locator("#triage select[name=service]").inputValue(), "checkout-web");
  });
});

test("L1 escalation without a reason is refused, with a reason it moves to L2", async () => {
  await as("liam.l1@opsdesk.example", "05-l1-escalate", async (page) => {
    await page.goto(`${base}${ticketPath}`);
    await page.$eval("#escalate textarea[name=reason]", (el) => el.removeAttribute("required"));
    await page.fill("#escalate textarea[name=tried]", "Power-cycled, reinstalled driver");
    await page.click("#escalate button[type=submit]");
    assert.match(await page.textContent('#form-errors [data-field="reason"]'), /must not be empty/);
    await page.fill("#escalate textarea[name=reason]", "Firmware defect suspected; needs product expert");
    await page.fill("#escalate textarea[name=tried]", "Power-cycled, reinstalled driver");
    await page.click("#escalate button[type=submit]");
    await page.waitForLoadState("domcontentloaded");
    assert.equal((await page.textContent(".bar .tier")).trim(), "L2");
    const escalation = page.locator(".item.escalation", { hasText: "to Product Experts L2 (L2)" });
    assert.equal(await escalation.count(), 1);
    assert.ok(await escalation.locator("text=Reason: Firmware defect suspected").isVisible());
    assert.ok(await escalation.locator("text=Tried: Power-cycled, reinstalled driver").isVisible());
  });
});

test("customer sees the public reply and never the internal note", async () => {
  await as("carol@acme.example", "06-customer-view", async (page) => {
    await page.goto(`${base}${ticketPath.replace("/desk/", "/portal/")}`);
    assert.ok(await page.isVisible(`text=${PUBLIC_REPLY}`));
    const html = await page.content();
    assert.ok(!html.includes(INTERNAL_NOTE), "the internal note leaked into the portal");
    assert.ok(!html.includes("KE-17"));
    await page.goto(`${base}${ticketPath}`);
    assert.ok(!(await page.content()).includes(INTERNAL_NOTE));
  });
});

test("another organisation's customer cannot open the ticket", async () => {
  await as("gary@globex.example", "07-other-org", async (page) => {
    const response = await page.goto(`${base}${ticketPath.replace("/desk/", "/portal/")}`);
    assert.equal(response.status(), 404);
    assert.ok(!(await page.content()).includes(SUBJECT));
  });
});

test("the agent queue filters by URL and renders for a screenshot", async () => {
  await as("liam.l1@opsdesk.example", "08-queue", async (page) => {
    await page.goto(`${base}/desk?status=active&sort=priority`);
    const rows = page.locator("#queue-rows tr.row");
    assert.ok((await rows.count()) > 0);
    await page.selectOption("select[name=priority]", "urgent");
    await page.waitForFunction(() => location.search.includes("priority=urgent"));
    const priorities = await page.locator("#queue-rows tr.row .pri").allTextContents();
    assert.ok(priorities.length > 0 && priorities.every((p) => p.trim() === "urgent"), priorities.join(","));
    if (process.env.SCREENSHOT_DIR) {
      await page.goto(`${base}/desk?status=active&sort=priority`);
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "queue.png") });
    }
  });
});
