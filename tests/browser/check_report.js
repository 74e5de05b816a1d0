// Render report.html in headless Chromium (Debian's chromium, driven by puppeteer-core) at three widths:
// keep a full-page screenshot per width, fail on console errors, page errors, CSP violations and any
// request that is not the page itself, on chart labels outside their SVG, on host names or short
// columns broken across lines, on a horizontal scroll of the page, on a host row or sort header that
// the keyboard cannot reach or use, and on serious or critical axe-core violations.
//
//   node tests/browser/check_report.js PAGE OUTPUT_DIR   (NODE_PATH: the node_modules of .cache/browser)
"use strict";
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const WIDTHS = [390, 1280, 1920];
const [page_path, out_dir] = process.argv.slice(2);
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

async function checkWidth(browser, width) {
  const problems = [];
  const page = await browser.newPage();
  await page.setViewport({width: width, height: 900, deviceScaleFactor: 1});
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warn" || msg.type() === "warning") {
      problems.push("console " + msg.type() + ": " + msg.text());
    }
  });
  page.on("pageerror", (err) => problems.push("page error: " + err.message));
  page.on("request", (req) => {
    if (!req.url().startsWith("file://") && !req.url().startsWith("data:")) {
      problems.push("external request: " + req.url());
    }
  });
  await page.goto("file://" + path.resolve(page_path), {waitUntil: "load"});
  await page.waitForSelector("html[data-ready=true]", {timeout: 20000});

  const layout = await page.evaluate(() => {
    const out = [];
    // no horizontal scroll of the page itself (wide tables scroll in their own box)
    if (document.documentElement.scrollWidth > window.innerWidth + 1) {
      out.push("the page scrolls horizontally: " + document.documentElement.scrollWidth + " > " + window.innerWidth);
    }
    // chart labels inside their SVG (the left edge cut "aspersky ..." before)
    document.querySelectorAll("svg.chart").forEach((svg) => {
      const box = svg.viewBox.baseVal;
      svg.querySelectorAll("text").forEach((t) => {
        const b = t.getBBox();
        if (b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5) {
          out.push("chart label outside its chart: " + JSON.stringify(t.textContent) + " x=" + b.x.toFixed(1) +
                   " width=" + b.width.toFixed(1) + " of " + box.width);
        }
      });
    });
    // host names and short columns on one line (never broken mid-word)
    function lines(node) {
      // the line boxes of the cell's text (each text node's fragments; an element's own box is not a line)
      const tops = new Set();
      const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
      for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        const range = document.createRange(); range.selectNodeContents(text);
        Array.from(range.getClientRects()).filter((r) => r.width > 0).forEach((r) => tops.add(Math.round(r.bottom)));
      }
      return tops.size;
    }
    const cells = [];
    document.querySelectorAll("#hosts-table tbody tr.host").forEach((tr) => {
      [0, 1, 3, 4, 10].forEach((i) => { if (tr.children[i]) { cells.push(tr.children[i]); } });
    });
    document.querySelectorAll(".hn, .nw").forEach((c) => cells.push(c));
    cells.forEach((c) => {
      if (c.textContent && lines(c) > 1) { out.push("broken across lines: " + JSON.stringify(c.textContent)); }
    });
    // a long error is one line until opened
    document.querySelectorAll("#hosts-table details.ec").forEach((d) => {
      if (d.open) { out.push("an error is open by default"); }
      if (d.querySelector("summary").getBoundingClientRect().height > 40) { out.push("an error summary is not one line"); }
    });
    return {problems: out, errors: document.querySelectorAll("#hosts-table details.ec").length};
  });
  problems.push(...layout.problems);
  if (!layout.errors) { problems.push("no collapsed long error in the host table (the sample has one)"); }

  fs.mkdirSync(out_dir, {recursive: true});
  const shot = path.join(out_dir, "report-" + width + ".png");
  await page.screenshot({path: shot, fullPage: true});
  // the parts a reader looks at first, at readable size
  await page.screenshot({path: path.join(out_dir, "report-" + width + "-top.png")});
  for (const id of ["changes", "charts", "hosts"]) {
    const section = await page.$("#" + id);
    if (section) { await section.screenshot({path: path.join(out_dir, "report-" + width + "-" + id + ".png")}); }
  }

  // keyboard: Tab reaches a sort header; Enter sorts; Tab reaches a host row; Enter opens its findings
  const keyboard = await page.evaluate(() => {
    const th = document.querySelector("#hosts-table th");
    const row = document.querySelector("#hosts-table tr.host");
    return {th: th && th.tabIndex === 0, row: row && row.tabIndex === 0};
  });
  if (!keyboard.th || !keyboard.row) { problems.push("sort headers or host rows are not focusable"); }
  await page.focus("#hosts-table th");
  await page.keyboard.press("Enter");
  const sorted = await page.$eval("#hosts-table th", (th) => th.getAttribute("aria-sort"));
  if (sorted !== "ascending") { problems.push("Enter on a sort header did not sort (aria-sort " + sorted + ")"); }
  await page.keyboard.press("Enter");
  await page.focus("#hosts-table tr.host");
  await page.keyboard.press("Enter");
  const opened = await page.$$eval("#hosts-table tr.detail", (rows) => rows.length);
  if (opened !== 1) { problems.push("Enter on a host row did not show its findings"); }
  await page.focus("#hosts-table tr.host");
  await page.keyboard.press("Enter");

  // axe-core (evaluated through the DevTools protocol, which the page's CSP does not govern)
  await page.evaluate(axeSource);
  const axe = await page.evaluate(async () => {
    const result = await window.axe.run(document, {resultTypes: ["violations"]});
    return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                                          target: v.nodes.slice(0, 3).map((n) => n.target.join(" "))}));
  });
  const serious = axe.filter((v) => v.impact === "serious" || v.impact === "critical");
  serious.forEach((v) => problems.push("axe " + v.impact + " " + v.id + " (" + v.help + "): " + v.nodes +
                                       " node(s), e.g. " + v.target.join(" | ")));
  const minor = axe.filter((v) => !(v.impact === "serious" || v.impact === "critical"));
  await page.close();
  return {width, shot, problems, minor};
}

(async () => {
  const started = Date.now();
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--font-render-hinting=none"]});
  let failed = 0;
  try {
    for (const width of WIDTHS) {
      const result = await checkWidth(browser, width);
      console.log("width " + width + ": screenshot " + result.shot);
      result.minor.forEach((v) => console.log("  axe " + v.impact + " " + v.id + " (" + v.help + "): " + v.nodes +
                                              " node(s) [not failing: moderate/minor]"));
      result.problems.forEach((p) => console.log("  FAIL " + p));
      failed += result.problems.length;
    }
  } finally {
    await browser.close();
  }
  console.log((failed ? "browser check FAILED: " + failed + " problem(s)" : "browser check passed") +
              " in " + ((Date.now() - started) / 1000).toFixed(1) + "s");
  process.exit(failed ? 1 : 0);
})().catch((err) => { console.error(err); process.exit(2); });
