import { join } from "node:path";

/** The one place the bundled llama.cpp release is pinned: bump it to move every node to a new build. */
export const NODE_LLAMA_CPP_VERSION = "3.22.1";

export const VOCAB_FILE = "ggml-vocab-llama-spm.gguf";

/** `FLEETGATE_CACHE_DIR` wins; otherwise `~/.cache/fleetgate`, outside any checkout so clones share it. */
export function resolveCacheDir(envValue: string | undefined, homeDir: string): string {
  return envValue && envValue.trim() !== "" ? envValue : join(homeDir, ".cache", "fleetgate");
}

export type Backend = "cpu" | "cuda";

export interface SourcePaths {
  /** `<tag>-<commit12>`: the idempotency key for a clone and its builds. */
  key: string;
  srcDir: string;
  vocabPath: string;
}

export function npmPaths(cacheDir: string) {
  const dir = join(cacheDir, "npm");
  return {
    dir,
    tarball: join(dir, `node-llama-cpp-${NODE_LLAMA_CPP_VERSION}.tgz`),
    extracted: join(dir, `node-llama-cpp-${NODE_LLAMA_CPP_VERSION}`),
  };
}

export function sourcePaths(cacheDir: string, key: string): SourcePaths {
  const srcDir = join(cacheDir, "llama.cpp", key);
  return { key, srcDir, vocabPath: join(srcDir, "models", VOCAB_FILE) };
}

export function buildPaths(src: SourcePaths, backend: Backend) {
  const buildDir = join(src.srcDir, backend === "cpu" ? "build" : "build-cuda");
  return {
    buildDir,
    binary: join(buildDir, "bin", "llama-server"),
    /** Written only after a build succeeded, so a killed build is never mistaken for a finished one. */
    stamp: join(buildDir, ".fleetgate-built"),
  };
}

/** The `v1` names the generator version: bump it when the generator changes so old caches are not reused. */
export function tinyModelPath(cacheDir: string, seed: number, size: "tiny" | "bench" = "tiny"): string {
  return join(cacheDir, "models", `${size}-llama-v1-s${seed}.gguf`);
}

export function lockPath(cacheDir: string, name: string): string {
  return join(cacheDir, "locks", `${name}.lock`);
}
