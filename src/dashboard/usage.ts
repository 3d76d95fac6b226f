/** What one key or tenant has used on this replica since it started. */
export interface Usage {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
}

/** Where names past the limit are counted together. */
export const OTHER = "(other)";

/**
 * Usage per name (key id or tenant). At most `limit` names get a row of their own and later newcomers
 * share the OTHER row: issued keys are many and unbounded over time, and this must not grow with them.
 */
export class UsageTally {
  private readonly rows = new Map<string, Usage>();

  constructor(private readonly limit: number) {}

  add(name: string, usage: Usage): void {
    const key = this.rows.has(name) || this.rows.size < this.limit ? name : OTHER;
    let row = this.rows.get(key);
    if (!row) {
      row = { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0 };
      this.rows.set(key, row);
    }
    row.requests += usage.requests;
    row.errors += usage.errors;
    row.promptTokens += usage.promptTokens;
    row.completionTokens += usage.completionTokens;
  }

  /** The `count` heaviest rows by tokens, then requests. */
  top(count: number): ({ readonly name: string } & Usage)[] {
    const weight = (u: Usage) => u.promptTokens + u.completionTokens;
    return [...this.rows]
      .map(([name, usage]) => ({ name, ...usage }))
      .sort((a, b) => weight(b) - weight(a) || b.requests - a.requests)
      .slice(0, count);
  }
}
