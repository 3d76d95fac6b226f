/**
 * Summarises a V8 .cpuprofile: self time by function and by module (package, Node subsystem or
 * fleetgate module), and inclusive time by module, over a window of the run.
 * Standalone: npx tsx bench/overhead/profile.ts FILE.cpuprofile
 */
import { readFileSync } from "node:fs";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame's code lives, coarse enough to point at a change. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(V8 builtins / native)";
  if (url.startsWith("node:")) {
    if (url.includes("deps/undici")) return "node:undici (global Request/Response/Headers)";
    if (url.includes("webstreams")) return "node:webstreams";
    if (url.includes("internal/streams") || url === "node:stream") return "node:streams";
    if (/_http_|internal\/http/.test(url)) return "node:http";
    if (/\bnet\b|stream_base|internal\/net/.test(url)) return "node:net";
    if (url.includes("timers")) return "node:timers";
    if (url.includes("abort")) return "node:abort-signal";
    return `node:${url.replace(/^node:(internal\/)?/, "").split("/")[0]}`;
  }
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "/node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  const src = /\/(src|bench)\/([^/]+)/.exec(url);
  return src ? `${src[1]}/${src[2]?.replace(/\.ts$/, "")}` : url;
}

/** Frames worth naming with their callers' time: fleetgate's code and its npm dependencies. */
const OWN_CODE = /\/(src|node_modules)\//;

function label(frame: CallFrame): string {
  const file = frame.url.split("/").pop() ?? "";
  const name = frame.functionName || "(anonymous)";
  return file ? `${name} ${file}:${frame.lineNumber + 1}` : name;
}

export interface Share {
  readonly name: string;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly samples: number;
  readonly windowed: boolean;
  readonly selfByFunction: readonly Share[];
  readonly selfByModule: readonly Share[];
  readonly inclusiveByModule: readonly Share[];
  /** fleetgate's own functions and its libraries', by time with them on the stack. */
  readonly inclusiveByFunction: readonly Share[];
}

function top(totals: Map<string, number>, all: number, count: number): Share[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, value]) => ({ name, percent: (value / all) * 100 }));
}

const add = (totals: Map<string, number>, key: string, value: number) =>
  totals.set(key, (totals.get(key) ?? 0) + value);

/**
 * `fromUs`/`toUs` are CLOCK_MONOTONIC microseconds (what process.hrtime gives in any process); V8's
 * profile timestamps use the same clock. Idle time is left out so the shares are of busy CPU.
 */
export function summarise(file: string, fromUs = 0, toUs = Number.POSITIVE_INFINITY): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  let time = profile.startTime;
  const inWindow: Array<[number, number]> = [];
  const all: Array<[number, number]> = [];
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") return;
    all.push([id, delta]);
    if (time >= fromUs && time <= toUs) inWindow.push([id, delta]);
  });
  const windowed = inWindow.length > 0;
  const chosen = windowed ? inWindow : all;
  const selfByFunction = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  const inclusiveByModule = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  let total = 0;
  for (const [id, delta] of chosen) {
    const frame = byId.get(id)!.callFrame;
    total += delta;
    add(selfByFunction, `${label(frame)}  [${moduleOf(frame)}]`, delta);
    add(selfByModule, moduleOf(frame), delta);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const atFrame = byId.get(at)!.callFrame;
      const module = moduleOf(atFrame);
      const key = OWN_CODE.test(atFrame.url) ? `${label(atFrame)}  [${module}]` : undefined;
      if (!seen.has(module)) add(inclusiveByModule, module, delta);
      if (key && !seen.has(key)) add(inclusiveByFunction, key, delta);
      seen.add(module);
      if (key) seen.add(key);
    }
  }
  return {
    samples: chosen.length,
    windowed,
    selfByFunction: top(selfByFunction, total, 30),
    selfByModule: top(selfByModule, total, 20),
    inclusiveByModule: top(inclusiveByModule, total, 20),
    inclusiveByFunction: top(inclusiveByFunction, total, 40),
  };
}

export function printSummary(summary: ProfileSummary): void {
  const show = (title: string, shares: readonly Share[]) => {
    console.log(`\n${title}`);
    for (const share of shares) console.log(`${share.percent.toFixed(1).padStart(6)}%  ${share.name}`);
  };
  console.log(
    `\n${summary.samples} busy samples${summary.windowed ? " in the measured window" : " (whole run: window not found)"}`,
  );
  show("self time by module", summary.selfByModule);
  show("inclusive time by module (stack contains it)", summary.inclusiveByModule);
  show("self time by function", summary.selfByFunction);
  show("inclusive time, fleetgate and library functions", summary.inclusiveByFunction);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: profile.ts FILE.cpuprofile");
  printSummary(summarise(file));
}
