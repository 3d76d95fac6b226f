import { describe, expect, it, vi } from "vitest";
import { parseSimArgs, runSimCommand, SIM_HELP } from "../../../src/sim/index.js";
import { until } from "./helpers.js";

describe("sim CLI arguments", () => {
  it("maps flags to node options and faults", () => {
    const options = parseSimArgs([
      "--port",
      "9000",
      "--model",
      "m",
      "--region",
      "eu-west",
      "--slots",
      "8",
      "--ttft-ms",
      "5",
      "--tokens-per-second",
      "120",
      "--prefill-tokens-per-second",
      "4000",
      "--rtt-ms",
      "30",
      "--loading-ms",
      "100",
      "--n-ctx",
      "8192",
      "--no-embeddings",
      "--api-key",
      "k",
      "--seed",
      "7",
      "--error-rate",
      "0.25",
      "--die-after-tokens",
      "3",
      "--hang-before-headers",
      "--hang-mid-stream-after-tokens",
      "4",
      "--malformed",
      "--slow-bytes-per-second",
      "100",
      "--flap-period-ms",
      "500",
    ]);
    expect(options).toEqual({
      port: 9000,
      model: "m",
      region: "eu-west",
      slots: 8,
      ttftMs: 5,
      tokensPerSecond: 120,
      prefillTokensPerSecond: 4000,
      rttMs: 30,
      loadingMs: 100,
      nCtx: 8192,
      embeddings: false,
      apiKey: "k",
      seed: 7,
      faults: {
        errorRate: 0.25,
        dieAfterTokens: 3,
        hangBeforeHeaders: true,
        hangMidStreamAfterTokens: 4,
        malformedOutput: true,
        slowBytesPerSecond: 100,
        flapPeriodMs: 500,
      },
    });
    expect(parseSimArgs([])).toEqual({});
  });

  it("names the flag of a bad value", () => {
    expect(() => parseSimArgs(["--slots", "abc"])).toThrow(/--slots/);
    expect(() => parseSimArgs(["--slots", "0"])).toThrow(/--slots/);
    expect(() => parseSimArgs(["--error-rate", "1.5"])).toThrow(/--error-rate/);
    expect(() => parseSimArgs(["--port", "70000"])).toThrow(/--port/);
    expect(() => parseSimArgs(["--die-after-tokens", "-2"])).toThrow(/--die-after-tokens/);
    expect(() => parseSimArgs(["--bogus"])).toThrow(/--bogus/);
  });

  it("documents every flag in the help text", () => {
    for (const flag of ["--tokens-per-second", "--no-embeddings", "--flap-period-ms", "--malformed"]) {
      expect(SIM_HELP).toContain(flag);
    }
  });
});

describe("sim command", () => {
  it("prints help for --help without starting a node", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      await runSimCommand(["--help"]);
      expect(write).toHaveBeenCalledWith(SIM_HELP);
    } finally {
      write.mockRestore();
    }
  });

  it("prints one line with the URL, serves, and closes on SIGTERM", async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const running = runSimCommand(["--port", "0", "--region", "eu-west"]);
      await until(() => lines.length > 0);
      const url = lines[0]?.match(/http:\/\/\S+/)?.[0];
      expect(lines[0]).toContain("eu-west");
      expect((await fetch(`${url}/health`)).status).toBe(200);
      process.emit("SIGTERM", "SIGTERM");
      await running;
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    } finally {
      write.mockRestore();
    }
  });
});
