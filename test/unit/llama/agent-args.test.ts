import { describe, expect, it } from "vitest";
import { agentOptions } from "../../../src/llama/agent-cli.js";
import { CliUsageError, parseNodeArgs } from "../../../src/llama/cli-args.js";

const log = () => undefined;
const TOKEN = "enroll-0123456789abcdef";

describe("fleetgate agent and node --join arguments", () => {
  it("takes flags over FLEETGATE_* env, as the node image configures it", () => {
    const options = agentOptions(
      { gateway: "https://gw.example/", id: "gpu-1" },
      {
        FLEETGATE_TOKEN: TOKEN,
        FLEETGATE_NODE_ID: "ignored",
        FLEETGATE_REGION: "fra",
        FLEETGATE_MODELS: "a, b",
      },
      log,
    );
    expect(options).toMatchObject({
      gateway: "https://gw.example",
      token: TOKEN,
      id: "gpu-1",
      region: "fra",
      llama: "http://127.0.0.1:8080",
      models: ["a", "b"],
      drainTimeoutMs: 30_000,
    });
  });

  it("names the flag that is missing or wrong", () => {
    expect(() => agentOptions({ gateway: "https://gw.example" }, {}, log)).toThrow(/--token/);
    expect(() => agentOptions({ gateway: "ftp://gw", token: TOKEN }, {}, log)).toThrow(/--gateway/);
    expect(() => agentOptions({ gateway: "http://gw", token: TOKEN, id: "bad id" }, {}, log)).toThrow(/--id/);
  });

  it("parses node --join with the agent's flags, and refuses them without --join", () => {
    const parsed = parseNodeArgs([
      "--port",
      "9000",
      "--join",
      "https://gw.example",
      "--token",
      TOKEN,
      "--id",
      "n1",
    ]);
    expect(parsed).toMatchObject({
      port: 9000,
      join: { join: "https://gw.example", token: TOKEN, id: "n1" },
    });
    const joined =
      !parsed.help && parsed.join
        ? agentOptions(parsed.join, {}, log, { llama: "http://127.0.0.1:9000" })
        : undefined;
    expect(joined).toMatchObject({ gateway: "https://gw.example", llama: "http://127.0.0.1:9000", id: "n1" });
    expect(() => parseNodeArgs(["--port", "9000", "--token", TOKEN])).toThrow(CliUsageError);
    expect(parseNodeArgs(["--port", "9000"])).not.toHaveProperty("join");
  });
});
