// Reports in the browser: the dashboard draws its SVG charts from six months of demo history,
// a filter change swaps the report in place (htmx) and the URL keeps the filters; the numbers
// behind a chart are one click away; an agent sees their own tickets; the incident report and
// the forecast render theirs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDesk } from "./harness.mjs";

let desk;
before(async () => { desk = await startDesk(); });
after(async () => desk?.stop());

/** The last day of the demo's history (today, UTC) and a day 180 days before. */
function sixMonths() {
  const to = new Date();
  const from = new Date(to.getTime() - 180 * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

test("the dashboard draws its charts and a filter change updates them", async () => {
  await desk.as("manager@opsdesk.example", "reports-01-dashboard", async (page) => {
    const { from, to } = sixMonths();
    await page.goto(`${desk.base}/reports?from=${from}&to=${to}&granularity=week`);
    const volume = page.locator("svg#chart-volume");
    await volume.waitFor();
    const bars = await volume.locator("rect").count();
    assert.ok(bars > 40, `a bar per week for created and resolved, got ${bars}`);
    assert.ok(await page.locator("svg#chart-sla circle").count() > 10, "SLA points");
    assert.equal(await page.locator("svg#chart-backlog rect").count(), 5, "five age buckets");
    const created = async () =>
      Number((await page.locator(".tile", { hasText: "Created" }).locator("b").textContent()).trim());
    const all = await created();
    assert.ok(all > 1000, `six months of tickets, got ${all}`);
    // The numbers behind the chart, one click away.
    await page.click("section:has(#chart-volume) summary");
    const rows = await page.locator("#table-series tbody tr").count();
    assert.ok(rows >= 26, `a row per week, got ${rows}`);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "reports.png"), fullPage: false });
    }
    // A filter change swaps the report in place and keeps the filters in the URL.
    const before = await volume.innerHTML();
    await page.selectOption("select[name=team]", "Support L1");
    await page.waitForFunction(() => new URLSearchParams(location.search).get("team") === "Support L1");
    await page.waitForFunction(
      (old) => document.querySelector("svg#chart-volume")?.innerHTML !== old, before);
    const narrowed = await created();
    assert.ok(narrowed > 0 && narrowed < all, `Support L1 has fewer tickets (${narrowed} of ${all})`);
    // The link reproduces the view.
    await page.reload();
    assert.equal(await page.locator("select[name=team]").inputValue(), "Support L1");
    assert.equal(await created(), narrowed);
    // CSV of the same table.
    const csv = page.locator("section:has(#chart-volume) a", { hasText: "CSV" });
    assert.match(await csv.getAttribute("href"), /\/reports\/tickets\.csv\?.*team=Support\+L1.*table=series/);
    // Top services list the demo's services; one of them narrows the report further.
    const services = page.locator("#table-services tbody tr");
    assert.ok(await services.count() >= 3, "the demo's tickets name several services");
    assert.match(await services.first().textContent(), /billing-db|checkout-web|payments-api|email-relay/);
    const first = (await services.first().locator("td").first().textContent()).trim();
    const listed = Number((await services.first().locator("td").nth(1).textContent()).trim());
    await page.selectOption("select[name=service]", first);
    await page.waitForFunction((s) => new URLSearchParams(location.search).get("service") === s, first);
    await page.waitForFunction(
      (n) => document.querySelectorAll("#table-services tbody tr").length === 1, null);
    assert.equal(await created(), listed, `the service's row counted ${listed} tickets`);
  });
});

test("an agent's report holds their own tickets", async () => {
  await desk.as("liam.l1@opsdesk.example", "reports-02-agent", async (page) => {
    await page.goto(`${desk.base}/reports`);
    assert.match(await page.textContent("#report-period"), /your assigned tickets/);
    const agents = await page.locator("#table-agents tbody tr").count();
    assert.equal(agents, 1);
    assert.match(await page.textContent("#table-agents tbody tr"), /Liam/);
  });
});

test("the incident report and the forecast render their charts", async () => {
  await desk.as("manager@opsdesk.example", "reports-03-incidents", async (page) => {
    const { from, to } = sixMonths();
    await page.goto(`${desk.base}/reports/incidents?from=${from}&to=${to}`);
    await page.locator("svg#chart-incidents").waitFor();
    assert.ok(await page.locator("#table-services tbody tr").count() >= 2);
    assert.match(await page.textContent("#table-services"), /\d+[mh]/, "MTTR as a duration");
    await page.locator("svg#chart-statuses").waitFor();
    assert.equal(await page.locator("#table-statuses tbody tr").count(), 5);
    assert.match(await page.textContent("#table-statuses tbody tr:first-child"), /triggered/);
    await page.goto(`${desk.base}/reports/forecast`);
    await page.locator("svg#chart-forecast").waitFor();
    assert.match(await page.textContent("#forecast-error"), /Back-test: .* by \d+\.\d %/);
    assert.equal(await page.locator("svg#chart-staffing rect.cell").count(), 168);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, "forecast.png"), fullPage: true });
    }
  });
});
