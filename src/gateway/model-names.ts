import { errors } from "../errors.js";

export interface ModelNameSettings {
  /** Names apps hard-code (`gpt-4o-mini`) and the fleet model each stands for. */
  readonly aliases: Readonly<Record<string, string>>;
  /** Used when the asked-for model is not served by any node (or none is named); opt-in. */
  readonly fallback: string | undefined;
}

/**
 * Turns the model a client names into the one the fleet routes, in this order: the configured
 * alias map first; then, when no registered node serves the result (healthy or not: a model whose
 * nodes are down is still that model, and must not quietly become another), `models.default`. A
 * request that names no model (the tokenizer utilities, rerank and infill need none at
 * llama-server) gets the default, or the model every node serves. Key model checks and routing see the
 * resolved name; the body the node gets is unchanged.
 */
export class ModelNames {
  constructor(
    private readonly settings: ModelNameSettings,
    /** The models each registered node serves, its aliases included. */
    private readonly nodeModels: () => ReadonlyArray<readonly string[]>,
  ) {}

  resolve(asked: string | undefined): string {
    if (asked === undefined) return this.unnamed();
    const aliased = this.settings.aliases[asked] ?? asked;
    const fallback = this.settings.fallback;
    if (fallback === undefined) return aliased;
    return this.nodeModels().some((models) => models.includes(aliased)) ? aliased : fallback;
  }

  /** Config aliases as the model list shows them: each alias and the model it stands for. */
  get aliases(): Readonly<Record<string, string>> {
    return this.settings.aliases;
  }

  private unnamed(): string {
    if (this.settings.fallback !== undefined) return this.settings.fallback;
    // One model everywhere (under whatever aliases): naming it would change nothing.
    const [first, ...others] = this.nodeModels();
    const common = first?.find((model) => others.every((models) => models.includes(model)));
    if (common !== undefined) return common;
    throw errors.invalidRequest(
      first === undefined
        ? "model: required, and no node serves a model yet"
        : "model: required, since the fleet serves several models (or set models.default)",
      "model",
    );
  }
}
