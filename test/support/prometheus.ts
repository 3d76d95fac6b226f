/** Reading a Prometheus text exposition in tests: samples by name and labels, and the metadata lines. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  readonly samples: readonly Sample[];
  /** `# TYPE`, `# UNIT` and `# HELP` by metric family name. */
  readonly meta: ReadonlyMap<string, { type?: string; unit?: string; help?: string }>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseScrape(text: string): Scrape {
  const samples: Sample[] = [];
  const meta = new Map<string, { type?: string; unit?: string; help?: string }>();
  for (const line of text.split("\n")) {
    const comment = /^# (TYPE|UNIT|HELP) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, value] = comment as unknown as [string, string, string, string];
      const entry = meta.get(name) ?? {};
      entry[kind.toLowerCase() as "type" | "unit" | "help"] = value;
      meta.set(name, entry);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(LABEL)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { samples, meta };
}

/** The samples of one name whose labels include `where`. */
export function select(scrape: Scrape, name: string, where: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter(
    (sample) =>
      sample.name === name && Object.entries(where).every(([key, value]) => sample.labels[key] === value),
  );
}

/** The sum of the selected samples' values. */
export function total(scrape: Scrape, name: string, where: Record<string, string> = {}): number {
  return select(scrape, name, where).reduce((sum, sample) => sum + sample.value, 0);
}
