import { type CudaMode, ensureLlamaServerBinary } from "./build.js";
import { tinyModelPath } from "./paths.js";
import { ensureLlamaSource } from "./source.js";
import { DEFAULT_TINY_MODEL_SEED, ensureTinyModelFile } from "./tiny-model.js";

export interface PreparedLlama {
  readonly binary: string;
  readonly model: string;
}

/** The llama-server binary (built on first use) and the tiny generated model, both from the cache. */
export async function prepareTinyLlama(
  cacheDir: string,
  log: (line: string) => void,
  cuda: CudaMode = "off",
): Promise<PreparedLlama> {
  const { binary } = await ensureLlamaServerBinary({ cacheDir, cuda, log });
  const src = await ensureLlamaSource(cacheDir, log);
  const seed = DEFAULT_TINY_MODEL_SEED;
  const { path } = await ensureTinyModelFile(src.vocabPath, tinyModelPath(cacheDir, seed), { seed });
  return { binary, model: path };
}
