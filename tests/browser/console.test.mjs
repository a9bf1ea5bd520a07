// Drives Debian's Chromium through the reco console (headless, through puppeteer-core) against a
// `reco serve` that tests/e2e/test_console.py prepared. Input: the environment (RECO_URL,
// RECO_TOKEN, RECO_SCENARIO: JSON with what the page should show, RECO_ARTIFACTS: where the
// screenshots go). Prints one line per check; exits 1 at the first failed check, after a
// screenshot of the page as it was.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import puppeteer from "puppeteer-core";

const url = process.env.RECO_URL;
const token = process.env.RECO_TOKEN;
const scenario = JSON.parse(process.env.RECO_SCENARIO);
const artifacts = process.env.RECO_ARTIFACTS;
fs.mkdirSync(artifacts, { recursive: true });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let browser;
let page;
let consoleErrors = [];
let step = "start";

function check(condition, message) {
  if (!condition) throw new Error(`${step}: ${message}`);
  console.log(`ok - ${step}: ${message}`);
}

async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function text(selector = "main") {
  return page.$eval(selector, (el) => el.innerText);
}

async function waitText(needle, selector = "main", timeout = 30000) {
  await page.waitForFunction(
    (sel, n) => document.querySelector(sel) && document.querySelector(sel).innerText.includes(n),
    { timeout, polling: 100 }, selector, needle);
}

// Opens a page and waits for `needle` in it. The old page's content is cleared first, so that
// text it happened to contain cannot satisfy the wait before the new page has rendered.
async function go(hash, needle) {
  consoleErrors = [];
  const same = await page.evaluate((h) => location.hash === h, hash).catch(() => false);
  await page.evaluate(() => document.getElementById("main")?.replaceChildren()).catch(() => {});
  if (same) {
    await page.evaluate(() => window.dispatchEvent(new HashChangeEvent("hashchange")));
  } else {
    await page.goto(`${url}/${hash}`, { waitUntil: "domcontentloaded" });
  }
  if (needle) await waitText(needle);
}

function noConsoleErrors() {
  check(consoleErrors.length === 0, `no console error (${consoleErrors.join(" | ") || "none"})`);
}

async function noHorizontalOverflow() {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(scroll <= width + 1, `the page fits the screen width (${scroll} <= ${width})`);
}

async function api(method, p, body) {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": body && typeof body !== "string" ? "application/json" : "text/csv" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const t = await res.text();
  return { status: res.status, body: t };
}

function watch(p) {
  p.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  p.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
  p.on("dialog", async (d) => { consoleErrors.push(`dialog opened: ${d.message()}`); await d.dismiss(); });
}

async function main() {
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage();
  await page.setViewport(DESKTOP);
  watch(page);

  // --- sign-in: nothing without the token
  step = "sign-in";
  await go("#/endpoints", "Sign in");
  let t = await text();
  check(!t.includes(scenario.endpoint) && !t.includes(scenario.model), "the 401 page shows no endpoint or model");
  await shot("login");
  await page.type("#token", "wrong-token-wrong-token");
  await page.keyboard.press("Enter");
  await waitText("401");
  t = await text();
  check(t.includes("Sign in") && !t.includes(scenario.endpoint), "a wrong token is refused, nothing shown");
  await page.$eval("#token", (el) => { el.value = ""; });
  await page.type("#token", token);
  await page.keyboard.press("Enter");
  await waitText(scenario.endpoint);
  check(!page.url().includes(token), "the token is not in the URL");
  const stored = await page.evaluate(() => Object.values(sessionStorage));
  check(stored.includes(token), "the token is kept in the tab's sessionStorage");

  // --- endpoints
  step = "endpoints";
  await go("#/endpoints", scenario.endpoint);
  await waitText("InService");
  noConsoleErrors();
  await shot("endpoints");

  // A redeploy from the page changes what /invocations answers.
  step = "redeploy";
  const payload = scenario.payload;
  const before = await api("POST", `/endpoints/${scenario.endpoint}/invocations`, payload);
  check(before.status === 200, `invocations answer before the redeploy (${before.body.slice(0, 80)})`);
  const select = `select[id="deploy-${scenario.endpoint}"]`;
  await page.waitForSelector(select);
  await page.select(select, String(scenario.redeploy_version));
  await page.click(`button[data-deploy="${scenario.endpoint}"]`);
  await waitText(`now v${scenario.redeploy_version}`);
  const after = await api("POST", `/endpoints/${scenario.endpoint}/invocations`, payload);
  check(after.status === 200 && after.body !== before.body,
    `/invocations answers differently after the redeploy (${before.body.slice(0, 40)} -> ${after.body.slice(0, 40)})`);
  const ep = JSON.parse((await api("GET", `/endpoints/${scenario.endpoint}`)).body);
  check(ep.version === scenario.redeploy_version, `the endpoint record says version ${ep.version}`);
  await shot("endpoints-redeployed");

  // --- jobs: the running job's progress advances, then it is cancelled from the page
  step = "job progress";
  await go(`#/jobs/${scenario.running_job}`, "Progress");
  const fraction = async () => page.$eval(".progress", (el) => el.dataset.fraction);
  const first = await fraction();
  await page.waitForFunction((f) => {
    const el = document.querySelector(".progress");
    return el && el.dataset.fraction !== f && el.dataset.fraction !== "";
  }, { timeout: 20000, polling: 100 }, first);
  const second = await fraction();
  check(Number(second) > Number(first || 0), `progress advanced from ${first || 0} to ${second}`);
  noConsoleErrors();
  await shot("job-running");
  step = "job cancel";
  await page.click("button.danger");
  await waitText("Cancelled", "main", 10000);
  check(true, "the job is recorded as Cancelled");
  await shot("job-cancelled");

  step = "jobs list";
  await go("#/jobs", scenario.running_job);
  noConsoleErrors();
  await go(`#/jobs/${scenario.completed_job}`, "Cross-validation");
  t = await text();
  check(t.includes("RMSE (testset)") && t.includes("Fold 5"), "a completed job shows its per-fold CV table");
  check(t.includes("NDCG@10 (testset)") && t.includes("Coverage (testset)"), "with the ranking rows");
  noConsoleErrors();
  await shot("job-completed");

  // --- models, a version with plots, a comparison
  step = "models";
  await go("#/models", scenario.model);
  noConsoleErrors();
  await shot("models");
  step = "version";
  await go(`#/models/${scenario.model}/1`, "Learning curve");
  const figures = await page.$$eval("figure svg.plot", (els) => els.length);
  check(figures === 3, `three plots (per-fold errors, learning curve, histogram): ${figures}`);
  const bars = await page.$$eval("figure svg.plot rect", (els) => els.length);
  check(bars > 10, `the bar charts have bars (${bars})`);
  const lines = await page.$$eval("figure svg.plot polyline", (els) => els.length);
  check(lines === 6, `the learning curve has 5 folds + the refit (${lines})`);
  noConsoleErrors();
  await shot("version");
  step = "search table";
  await go(`#/models/${scenario.model}/2`, "Search: grid, 2 settings");
  const searchRows = await page.$$eval("main h2 + .table-wrap tbody tr", (els) => els.map((e) => e.innerText));
  check(searchRows.some((r) => r.startsWith("best")), "a tuned version shows its settings, the best marked");
  noConsoleErrors();
  await shot("version-tuned");
  step = "compare";
  await go("#/models", scenario.model);
  const boxes = await page.$$("input[type=checkbox]");
  for (const b of boxes.slice(0, 2)) await b.click();
  await page.click("section button.secondary");
  await waitText("Highlighted rows differ");
  t = await text();
  check(t.includes("n_factors"), "the comparison lists the hyperparameters");
  const diffs = await page.$$eval("tr.diff", (els) => els.map((e) => e.innerText));
  check(diffs.some((d) => d.startsWith("n_factors")), `n_factors is highlighted as different (${diffs.length} rows)`);
  noConsoleErrors();
  await shot("compare");

  // --- user explorer, by keyboard: titles right, HTML in a title shown as text
  step = "explorer";
  await go("#/explore", "User id");
  await page.focus("#explore-user");
  await page.keyboard.type(String(scenario.user));
  await page.keyboard.press("Enter");
  await page.waitForSelector("#recommended table");
  const rated = await page.$$eval("#rated tbody tr td:first-child", (els) => els.map((e) => e.textContent));
  const recommended = await page.$$eval("#recommended tbody tr td:nth-child(2)", (els) => els.map((e) => e.innerText));
  for (const title of scenario.rated_titles) check(rated.includes(title), `rated list shows "${title}"`);
  check(JSON.stringify(recommended) === JSON.stringify(scenario.top_titles),
    `the top-10 titles are the endpoint's (${recommended.slice(0, 2).join("; ")}...)`);
  check(rated.includes(scenario.html_title), "a title with HTML in it is shown as text");
  const injected = await page.evaluate(() => [typeof window.__xss, document.querySelectorAll("main script, main img").length]);
  check(injected[0] === "undefined" && injected[1] === 0, `the HTML in the title did not run or render (${JSON.stringify(injected)})`);
  noConsoleErrors();
  await shot("explorer");

  // --- warehouse: tables, a query, a refused write, the row limit
  step = "warehouse";
  await go("#/warehouse", "ratings");
  t = await text();
  check(t.includes(scenario.html_table), "a table name with HTML in it is listed as text");
  await page.$eval("#sql", (el) => { el.value = ""; });
  await page.type("#sql", "select count(*) as n from ratings");
  await page.click("form button[type=submit]");
  await waitText("row(s) in");
  t = await text("#result");
  check(t.includes(String(scenario.n_ratings)), `the query answers ${scenario.n_ratings}`);
  noConsoleErrors();
  await shot("warehouse");
  await page.$eval("#sql", (el) => { el.value = "delete from ratings"; });
  await page.click("form button[type=submit]");
  await waitText("only reads", "#result");
  check(true, "a write is refused with a message");
  await page.$eval("#sql", (el) => { el.value = "select * from ratings"; });
  await page.$eval("#limit", (el) => { el.value = "50"; });
  await page.click("form button[type=submit]");
  await waitText("stopped at the limit of 50 rows", "#result");
  const rows = await page.$$eval("#result tbody tr", (els) => els.length);
  check(rows === 50, `a large result is cut at the row limit (${rows} rows)`);

  // --- roll back from the page: /invocations answers as before the redeploy; the history says so
  step = "rollback";
  await go("#/endpoints", scenario.endpoint);
  await page.click(`button[data-rollback="${scenario.endpoint}"]`);
  await waitText("rolled back to v1");
  const rolled = await api("POST", `/endpoints/${scenario.endpoint}/invocations`, payload);
  check(rolled.body === before.body, "/invocations answers as before the redeploy");
  await go(`#/endpoints/${scenario.endpoint}`, "deployment history");
  t = await text();
  check(t.includes("rollback") && t.includes("http"), "the history lists the rollback made over HTTP");
  noConsoleErrors();
  await shot("endpoint-history");

  // --- tasks
  step = "tasks";
  await go("#/tasks", scenario.task);
  t = await text();
  check(t.includes("1 DAY") && t.includes("Succeeded"), "the task list shows the schedule and the last run");
  await go(`#/tasks/${scenario.task}`, "Runs (newest first)");
  t = await text();
  check(t.includes("select count(*) from ratings") && t.includes("Succeeded"), "a task's page shows its SQL and runs");
  noConsoleErrors();
  await shot("tasks");

  // --- a model deleted while its page is open: an error on the page, not a broken page
  step = "deleted version";
  await go(`#/models/${scenario.model}/${scenario.deleted_version}`, "Hyperparameters");
  execFileSync(process.env.RECO_BIN, ["--quiet", "models", "delete", `${scenario.model}/${scenario.deleted_version}`],
    { env: { ...process.env, RECO_HOME: process.env.RECO_HOME }, stdio: "inherit" });
  check(true, `version ${scenario.deleted_version} deleted while its page was open`);
  await page.evaluate(() => window.dispatchEvent(new HashChangeEvent("hashchange")));
  await waitText("does not exist");
  check(true, "the page says the version is gone");
  await shot("version-deleted");

  // --- phone width: every page readable without sideways scrolling
  // A new tab emulating a phone (changing isMobile reloads a page); the token is this tab's own.
  step = "phone";
  const desktop = page;
  page = await browser.newPage();
  watch(page);
  await page.setViewport(PHONE);
  await page.evaluateOnNewDocument((t) => sessionStorage.setItem("reco-console-token", t), token);
  for (const [hash, needle] of [["#/endpoints", scenario.endpoint], ["#/jobs", scenario.completed_job],
    ["#/models", scenario.model], [`#/models/${scenario.model}/1`, "Learning curve"], ["#/tasks", scenario.task],
    [`#/explore/${scenario.endpoint}/${scenario.user}`, "Rated by"], ["#/warehouse", "ratings"]]) {
    await go(hash, needle);
    await noHorizontalOverflow();
    noConsoleErrors();
    await shot(`phone-${hash.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}`);
  }

  // --- keyboard: the navigation works with Tab and Enter
  step = "keyboard";
  await page.close();
  page = desktop;
  await go("#/endpoints", scenario.endpoint);
  let reached = false;
  for (let i = 0; i < 25 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement && document.activeElement.textContent === "Warehouse");
  }
  check(reached, "Tab reaches the Warehouse link");
  await page.keyboard.press("Enter");
  await waitText("Read-only SQL");
  check(true, "Enter on a navigation link opens the page");

  step = "sign out";
  await page.click("#signout");
  await waitText("Sign in");
  t = await text();
  check(!t.includes(scenario.endpoint), "signing out hides everything");
}

try {
  await main();
  console.log("all console checks passed");
} catch (e) {
  console.log(`not ok - ${e.message}`);
  if (consoleErrors.length) console.log(`console errors: ${consoleErrors.join(" | ")}`);
  try { if (page) await shot("failure"); } catch { /* the page may be gone */ }
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}
