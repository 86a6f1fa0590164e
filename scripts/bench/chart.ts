// Draws the whole-tree latency by tree size (from `npm run bench -- --json FILE`)
// as an SVG with vega-lite + vega, headless in Node (no browser, no canvas).
//   npx tsx scripts/bench/chart.ts FILE docs/tree-latency.svg
import { readFileSync, writeFileSync } from "node:fs";
import * as vega from "vega";
import * as vl from "vega-lite";

const [input, output = "docs/tree-latency.svg"] = process.argv.slice(2);
if (!input) throw new Error("usage: chart.ts RESULTS.json [OUT.svg]");
const { sizeRows } = JSON.parse(readFileSync(input, "utf8")) as {
  sizeRows: { size: number; pages: number; medianMs: number; p90Ms: number }[];
};
const values = sizeRows.flatMap((r) => [
  { subAccounts: r.size, ms: r.medianMs, series: "median of 7" },
  { subAccounts: r.size, ms: r.p90Ms, series: "slowest of 7" },
]);

const spec: vl.TopLevelSpec = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  title: { text: "Whole nested tree, one client (250 per page)", subtitle: "numbers, keys, balance, usageSummary per sub-account" },
  width: 420,
  height: 260,
  data: { values },
  layer: [{ mark: { type: "line", point: true } }, { mark: { type: "text", dy: -10 }, encoding: { text: { field: "ms", type: "quantitative" } } }],
  encoding: {
    x: { field: "subAccounts", type: "quantitative", title: "sub-accounts in the tree", scale: { type: "log" }, axis: { values: sizeRows.map((r) => r.size) } },
    y: { field: "ms", type: "quantitative", title: "milliseconds for the whole tree" },
    color: { field: "series", type: "nominal", title: null },
  },
};

const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
writeFileSync(output, await view.toSVG());
console.log(`wrote ${output}`);
