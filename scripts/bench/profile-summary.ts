// Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`):
// self time by function and by package, and inclusive time of chosen frames.
//   npx tsx scripts/bench/profile-summary.ts DIR/CPU....cpuprofile [top]
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const profile = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const top = Number(process.argv[3] ?? 25);

// Time per sample node (microseconds), from the deltas.
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes("/src/")) return `gateway src/${url.split("/src/")[1]}`;
  if (url.startsWith("node:")) return url;
  return url ? url.split("/").slice(-2).join("/") : "(native/V8)";
};
const pkg = (url: string) => {
  const w = where(url);
  return w.startsWith("gateway src/") ? "gateway src" : w;
};

const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const n of profile.nodes) {
  const us = selfUs.get(n.id) ?? 0;
  if (!us) continue;
  const fn = `${n.callFrame.functionName || "(anonymous)"}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  byPkg.set(pkg(n.callFrame.url), (byPkg.get(pkg(n.callFrame.url)) ?? 0) + us);
}

// Inclusive time per package: a sample counts once for every package on its stack.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
const inclusivePkg = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const url = nodeById.get(cur)!.callFrame.url;
    if (!url) continue;
    seen.add(pkg(url));
  }
  for (const p of seen) inclusivePkg.set(p, (inclusivePkg.get(p) ?? 0) + us);
}

const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
const print = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`profile: ${(totalUs / 1e6).toFixed(1)} s sampled`);
print("self time by package", byPkg, 20);
print("inclusive time by package (on the stack)", inclusivePkg, 20);
print("self time by function", byFn, top);
