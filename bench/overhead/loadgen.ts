/**
 * The load generator process (pinned away from the proxy under test). Takes one command at a time
 * over IPC from the orchestrator and answers with its result.
 */
import { closedLoop, closePools, openLoop, pairedLoop } from "./load-requests.js";
import { holdStreams, releaseStreams, streamLoop } from "./load-streams.js";
import type { LoadCommand, LoadResult } from "./protocol.js";

async function run(command: LoadCommand): Promise<LoadResult> {
  switch (command.type) {
    case "closed":
      return closedLoop(command);
    case "paired":
      return pairedLoop(command);
    case "open":
      return openLoop(command);
    case "streams":
      return streamLoop(command);
    case "hold":
      return holdStreams(command);
    case "release":
      await releaseStreams();
      await closePools();
      return { type: "released" };
  }
}

if (!process.send) throw new Error("loadgen.ts runs as a child process with an IPC channel");
process.on("message", (command: LoadCommand) => {
  void run(command).then((result) => process.send?.(result));
});
process.on("disconnect", () => process.exit(0));
