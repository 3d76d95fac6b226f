import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { CommandError, probeVersion, run } from "./exec.js";
import { withFileLock } from "./lock.js";
import { type Backend, buildPaths, lockPath } from "./paths.js";
import { ensureLlamaSource, type Log } from "./source.js";

export type CudaMode = "auto" | "on" | "off";

export interface BuildOptions {
  cacheDir: string;
  cuda?: CudaMode;
  jobs?: number;
  log?: Log;
}

export interface LlamaServerBinary {
  binary: string;
  backend: Backend;
  /** `<tag>-<commit12>` of the llama.cpp release the binary was built from. */
  key: string;
  tag: string;
  /** Seconds spent building, 0 when the binary was already in the cache. */
  buildSeconds: number;
  srcDir: string;
  vocabPath: string;
}

export class LlamaBuildError extends Error {
  override name = "LlamaBuildError";
}

const CPU_FLAGS = [
  "-DGGML_NATIVE=OFF",
  "-DLLAMA_CURL=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DCMAKE_BUILD_TYPE=Release",
];

/** nvcc alone is not enough: CI boxes often carry the toolkit without a GPU, and a CUDA build is slow. */
async function chooseBackend(mode: CudaMode): Promise<Backend> {
  if (mode === "off") return "cpu";
  const nvcc = await probeVersion("nvcc");
  if (mode === "on") {
    if (nvcc === null) throw new LlamaBuildError("--cuda was asked for but nvcc is not on PATH");
    return "cuda";
  }
  if (nvcc === null) return "cpu";
  const gpus = await run("nvidia-smi", ["-L"]).catch(() => []);
  return gpus.some((l) => l.startsWith("GPU ")) ? "cuda" : "cpu";
}

async function checkToolchain(): Promise<void> {
  if ((await probeVersion("cmake")) === null) {
    throw new LlamaBuildError("cmake is not on PATH: install it (e.g. `apt-get install cmake`) and retry");
  }
  for (const cxx of ["c++", "g++", "clang++"]) {
    if ((await probeVersion(cxx)) !== null) return;
  }
  throw new LlamaBuildError(
    "no C++ compiler on PATH (tried c++, g++, clang++): install one (e.g. `apt-get install g++`) and retry",
  );
}

function progressReporter(log: Log): (line: string) => void {
  const started = Date.now();
  let last = -1;
  return (line) => {
    const m = /^\[\s*(\d+)%\]/.exec(line);
    const pct = m ? Number(m[1]) : -1;
    if (pct >= last + 5 || (pct === 100 && last < 100)) {
      last = pct;
      log(`building llama-server: ${pct}% (${Math.round((Date.now() - started) / 1000)}s)`);
    }
  };
}

/**
 * Returns the llama-server binary for the pinned llama.cpp release, cloning and building it into the
 * cache first when needed. Idempotent per (release, backend) and safe to call from parallel processes.
 */
export async function ensureLlamaServerBinary(options: BuildOptions): Promise<LlamaServerBinary> {
  const log = options.log ?? (() => {});
  const src = await ensureLlamaSource(options.cacheDir, log);
  const backend = await chooseBackend(options.cuda ?? "off");
  const paths = buildPaths(src, backend);
  const result = (buildSeconds: number): LlamaServerBinary => ({
    binary: paths.binary,
    backend,
    key: src.key,
    tag: src.tag,
    buildSeconds,
    srcDir: src.srcDir,
    vocabPath: src.vocabPath,
  });
  const built = () => existsSync(paths.stamp) && existsSync(paths.binary);
  if (built()) return result(0);

  return withFileLock(
    lockPath(options.cacheDir, `build-${src.key}-${backend}`),
    async () => {
      if (built()) return result(0);
      await checkToolchain();
      const started = Date.now();
      const jobs = String(options.jobs ?? availableParallelism());
      log(`configuring llama.cpp ${src.tag} (${backend}) in ${paths.buildDir}`);
      const flags = [...CPU_FLAGS, backend === "cuda" ? "-DGGML_CUDA=ON" : "-DGGML_CUDA=OFF"];
      try {
        await run("cmake", ["-S", src.srcDir, "-B", paths.buildDir, ...flags]);
        await run("cmake", ["--build", paths.buildDir, "--target", "llama-server", "-j", jobs], {
          onLine: progressReporter(log),
        });
      } catch (err) {
        if (err instanceof CommandError)
          throw new LlamaBuildError(`building llama-server failed: ${err.message}`);
        throw err;
      }
      if (!existsSync(paths.binary))
        throw new LlamaBuildError(`build finished but ${paths.binary} is missing`);
      await writeFile(paths.stamp, `${src.commit}\n`);
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      log(`llama-server built in ${seconds}s: ${paths.binary}`);
      return result(seconds);
    },
    { onWait: (pid) => log(`waiting for process ${pid} that is building llama-server`) },
  );
}
