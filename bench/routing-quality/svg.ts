import type { CellResult } from "./matrix.js";
import { WORKLOAD_NAMES, type WorkloadId } from "./workloads.js";

const COLORS = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"];
const WIDTH = 720;
const HEIGHT = 360;
const MARGIN = { top: 40, right: 20, bottom: 70, left: 60 };

const xmlText = (text: string): string =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at or above the largest value. */
function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, value)));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= value) ?? value;
}

/**
 * Grouped bars of p95 time to first token: one group per workload, one bar per policy, with the
 * success rate under each bar. A bar censored at the timeout is drawn hatched and labelled "≥".
 */
export function ttftChart(results: readonly CellResult[], title: string): string {
  const workloads = [...new Set(results.map((r) => r.workload))] as WorkloadId[];
  const policies = [...new Set(results.map((r) => r.policy))];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const yMax = niceMax(Math.max(...results.map((r) => r.metrics.ttftP95)));
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const groupW = plotW / workloads.length;
  const barW = (groupW * 0.8) / policies.length;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    '<defs><pattern id="censored" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="white" fill-opacity="0.0"/><line x1="0" y1="0" x2="0" y2="6" stroke="white" stroke-width="2"/></pattern></defs>',
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${xmlText(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">p95 TTFT (ms)</text>`,
  );
  workloads.forEach((workload, g) => {
    const x0 = MARGIN.left + g * groupW + groupW * 0.1;
    policies.forEach((policy, p) => {
      const result = results.find((r) => r.workload === workload && r.policy === policy);
      if (!result) return;
      const { ttftP95, ttftCensored, successRate } = result.metrics;
      const x = x0 + p * barW;
      const color = COLORS[p % COLORS.length]!;
      const bar = `x="${x.toFixed(1)}" y="${y(ttftP95).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - y(ttftP95)).toFixed(1)}"`;
      parts.push(`<rect ${bar} fill="${color}"/>`);
      if (ttftCensored.p95) parts.push(`<rect ${bar} fill="url(#censored)"/>`);
      const cx = (x + (barW - 2) / 2).toFixed(1);
      parts.push(
        `<text x="${cx}" y="${(y(ttftP95) - 4).toFixed(1)}" text-anchor="middle">${ttftCensored.p95 ? "≥" : ""}${ttftP95.toFixed(0)}</text>`,
        `<text x="${cx}" y="${y(0) + 14}" text-anchor="middle" fill="#6b7280">${(successRate * 100).toFixed(0)}%</text>`,
      );
    });
    parts.push(
      `<text x="${(MARGIN.left + (g + 0.5) * groupW).toFixed(1)}" y="${y(0) + 30}" text-anchor="middle" font-weight="bold">(${workload}) ${xmlText(WORKLOAD_NAMES[workload])}</text>`,
    );
  });
  const legendY = HEIGHT - 16;
  policies.forEach((policy, p) => {
    const x = MARGIN.left + p * 130;
    parts.push(
      `<rect x="${x}" y="${legendY - 9}" width="10" height="10" fill="${COLORS[p % COLORS.length]}"/>`,
      `<text x="${x + 14}" y="${legendY}">${xmlText(policy)}</text>`,
    );
  });
  parts.push(
    `<text x="${WIDTH - MARGIN.right}" y="${legendY}" text-anchor="end" fill="#6b7280">under bars: success rate; hatched: ≥ 1 s timeout</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
