// axe-core on Harbor's pages, in Debian's Chromium (playwright-core + @axe-core/playwright).
// Usage: node tests/audit/axe.mjs pages.json  (pages.json: {"chromium": path, "pages": [{"name",
// "url", "cookie"?}]}). Prints {"<name>": [violations...]} as JSON: every rule axe runs by default
// (WCAG 2.0/2.1/2.2 A and AA and axe's best practices), on a desktop and a phone viewport.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const browser = await chromium.launch({
  executablePath: config.chromium,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const viewports = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
const results = {};
try {
  for (const page of config.pages) {
    results[page.name] = [];
    for (const [label, viewport] of Object.entries(viewports)) {
      const context = await browser.newContext({ viewport });
      if (page.cookie) {
        const [name, value] = page.cookie.split("=");
        await context.addCookies([{ name, value, url: page.url }]);
      }
      const tab = await context.newPage();
      await tab.goto(page.url, { waitUntil: "networkidle" });
      const found = await new AxeBuilder({ page: tab }).analyze();
      for (const violation of found.violations) {
        results[page.name].push({ viewport: label, id: violation.id, impact: violation.impact,
                                  help: violation.help, nodes: violation.nodes.map((n) => n.target.join(" ")) });
      }
      results[page.name + ":passes"] = (results[page.name + ":passes"] || 0) + found.passes.length;
      await context.close();
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
