import { describe, expect, it } from "vitest";
import { CliUsageError, parseLlamaArgs, parseNodeArgs } from "../../../src/llama/cli-args.js";
import { resolveCacheDir } from "../../../src/llama/paths.js";
import { llamaServerArgs } from "../../../src/llama/server.js";

describe("fleetgate llama arguments", () => {
  it("defaults the build to CUDA auto-detection and reads --jobs", () => {
    expect(parseLlamaArgs(["build"])).toEqual({ command: "build", cuda: "auto", jobs: undefined });
    expect(parseLlamaArgs(["build", "--cuda", "-j", "3"])).toEqual({ command: "build", cuda: "on", jobs: 3 });
    expect(parseLlamaArgs(["build", "--cpu"])).toMatchObject({ cuda: "off" });
  });

  it("reads the model seed and output", () => {
    expect(parseLlamaArgs(["model", "--seed", "9", "--out", "/tmp/m.gguf"])).toEqual({
      command: "model",
      seed: 9,
      out: "/tmp/m.gguf",
    });
  });

  it("shows help for --help, no subcommand or 'help'", () => {
    for (const argv of [[], ["--help"], ["help"], ["build", "-h"]]) {
      expect(parseLlamaArgs(argv)).toEqual({ command: "help" });
    }
  });

  it.each([
    [["build", "--jobs", "0"], /--jobs/],
    [["model", "--seed", "x"], /--seed/],
    [["build", "--seed", "1"], /--seed does not apply to 'llama build'/],
    [["build", "--cuda", "--cpu"], /--cuda and --cpu/],
    [["compile"], /unknown subcommand 'llama compile'/],
    [["build", "--frobnicate"], /frobnicate/],
  ])("rejects %j naming the problem", (argv, message) => {
    expect(() => parseLlamaArgs(argv)).toThrow(CliUsageError);
    expect(() => parseLlamaArgs(argv)).toThrow(message);
  });
});

describe("fleetgate node arguments", () => {
  it("requires --port and fills defaults", () => {
    expect(parseNodeArgs(["--port", "8081"])).toEqual({
      help: false,
      port: 8081,
      host: "127.0.0.1",
      model: undefined,
      slots: 1,
      ctxSize: undefined,
      threads: undefined,
      alias: undefined,
      apiKey: undefined,
      embeddings: false,
      cuda: "auto",
      wait: true,
      readyTimeoutSeconds: 120,
      extraArgs: [],
    });
  });

  it("reads every flag and passes what follows -- through", () => {
    const opts = parseNodeArgs([
      "-p",
      "9000",
      "--model",
      "m.gguf",
      "--slots",
      "4",
      "--ctx-size",
      "2048",
      "--threads",
      "1",
      "--alias",
      "tiny",
      "--api-key",
      "k",
      "--embeddings",
      "--cpu",
      "--no-wait",
      "--",
      "--temp",
      "0",
    ]);
    expect(opts).toMatchObject({
      port: 9000,
      model: "m.gguf",
      slots: 4,
      ctxSize: 2048,
      threads: 1,
      alias: "tiny",
      apiKey: "k",
      embeddings: true,
      cuda: "off",
      wait: false,
      extraArgs: ["--temp", "0"],
    });
  });

  it.each([
    [[], /--port/],
    [["--port", "70000"], /--port/],
    [["--port", "80", "--slots", "0"], /--slots/],
    [["--port", "80", "--ctx-size", "big"], /--ctx-size/],
    [["--port", "80", "stray"], /unexpected argument: stray/],
  ])("rejects %j naming the flag", (argv, message) => {
    expect(() => parseNodeArgs(argv)).toThrow(message);
  });

  it("maps options to llama-server flags with metrics, slots and an explicit port", () => {
    const args = llamaServerArgs({
      binary: "x",
      model: "m.gguf",
      port: 1234,
      slots: 3,
      ctxSize: 512,
      alias: "a",
    });
    expect(args.join(" ")).toBe(
      "-m m.gguf --host 127.0.0.1 --port 1234 -np 3 --metrics --slots --no-webui -c 512 --alias a",
    );
  });
});

describe("cache directory", () => {
  it("prefers FLEETGATE_CACHE_DIR and falls back to ~/.cache/fleetgate", () => {
    expect(resolveCacheDir("/x/cache", "/home/u")).toBe("/x/cache");
    expect(resolveCacheDir(undefined, "/home/u")).toBe("/home/u/.cache/fleetgate");
    expect(resolveCacheDir(" ", "/home/u")).toBe("/home/u/.cache/fleetgate");
  });
});
