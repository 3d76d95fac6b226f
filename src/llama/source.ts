import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { run } from "./exec.js";
import { withFileLock } from "./lock.js";
import { lockPath, NODE_LLAMA_CPP_VERSION, npmPaths, type SourcePaths, sourcePaths } from "./paths.js";

export type Log = (line: string) => void;

export interface LlamaSource extends SourcePaths {
  tag: string;
  commit: string;
}

const BUNDLE_IN_TARBALL = "package/llama/gitRelease.bundle";
const INFO_IN_TARBALL = "package/llama/llama.cpp.info.json";

const infoSchema = z.object({ tag: z.string().min(1) });
const sourceIdSchema = z.object({ tag: z.string().min(1), commit: z.string().regex(/^[0-9a-f]{40}$/) });
type SourceId = z.infer<typeof sourceIdSchema>;

/**
 * Fetches only node-llama-cpp's tarball (not the package: its install pulls platform binaries of
 * hundreds of MB) and unpacks the llama.cpp git bundle and its release info from it.
 */
async function unpackBundle(cacheDir: string, log: Log): Promise<SourceId> {
  const npm = npmPaths(cacheDir);
  const idFile = join(npm.extracted, "source.json");
  if (existsSync(idFile)) return sourceIdSchema.parse(JSON.parse(await readFile(idFile, "utf8")));
  await mkdir(npm.extracted, { recursive: true });
  if (!existsSync(npm.tarball)) {
    log(`fetching node-llama-cpp@${NODE_LLAMA_CPP_VERSION} tarball from the npm registry`);
    await run("npm", ["pack", `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, "--pack-destination", npm.dir]);
  }
  log("extracting the llama.cpp git bundle");
  await run("tar", ["-xzf", npm.tarball, "-C", npm.extracted, BUNDLE_IN_TARBALL, INFO_IN_TARBALL]);
  const info = infoSchema.parse(JSON.parse(await readFile(join(npm.extracted, INFO_IN_TARBALL), "utf8")));
  const heads = await run("git", ["bundle", "list-heads", join(npm.extracted, BUNDLE_IN_TARBALL)]);
  const commit = heads.map((l) => l.split(" ")[0] ?? "").find((h) => /^[0-9a-f]{40}$/.test(h));
  if (!commit) throw new Error(`no commit found in ${BUNDLE_IN_TARBALL}: ${heads.join(" | ")}`);
  const id: SourceId = { tag: info.tag, commit };
  await writeFile(idFile, JSON.stringify(id));
  return id;
}

async function cloneBundle(cacheDir: string, src: SourcePaths, log: Log): Promise<void> {
  const bundle = join(npmPaths(cacheDir).extracted, BUNDLE_IN_TARBALL);
  const tmp = `${src.srcDir}.partial`;
  await rm(tmp, { recursive: true, force: true });
  log(`cloning llama.cpp into ${src.srcDir}`);
  await run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", bundle, tmp]);
  // Rename last so an interrupted clone never looks like a complete source tree; a tree without its
  // vocab files is such a leftover, so it goes.
  await rm(src.srcDir, { recursive: true, force: true });
  await rename(tmp, src.srcDir);
}

/**
 * Makes sure the llama.cpp source tree of the pinned release is cloned into the cache and returns its
 * paths. Cheap when done before: two file checks, no process spawned.
 */
export async function ensureLlamaSource(cacheDir: string, log: Log): Promise<LlamaSource> {
  const ready = async (): Promise<LlamaSource | null> => {
    const idFile = join(npmPaths(cacheDir).extracted, "source.json");
    if (!existsSync(idFile)) return null;
    const id = sourceIdSchema.parse(JSON.parse(await readFile(idFile, "utf8")));
    const src = sourcePaths(cacheDir, `${id.tag}-${id.commit.slice(0, 12)}`);
    return existsSync(src.vocabPath) ? { ...src, ...id } : null;
  };
  const done = await ready();
  if (done) return done;
  return withSourceLock(cacheDir, log, async () => {
    const again = await ready();
    if (again) return again;
    const id = await unpackBundle(cacheDir, log);
    const src = sourcePaths(cacheDir, `${id.tag}-${id.commit.slice(0, 12)}`);
    if (!existsSync(src.vocabPath)) await cloneBundle(cacheDir, src, log);
    return { ...src, ...id };
  });
}

function withSourceLock<T>(cacheDir: string, log: Log, fn: () => Promise<T>): Promise<T> {
  return withFileLock(lockPath(cacheDir, "source"), fn, {
    onWait: (pid) => log(`waiting for process ${pid} that is fetching llama.cpp`),
  });
}
