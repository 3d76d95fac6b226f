import { parseSimArgs, SIM_HELP } from "./args.js";
import { startSimNode } from "./server.js";

/** `fleetgate sim ...`: runs one simulated node until SIGINT or SIGTERM, then closes it gracefully. */
export async function runSimCommand(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(SIM_HELP);
    return;
  }
  const options = parseSimArgs(argv);
  const node = await startSimNode(options);
  const { model, slots, region } = node.options;
  process.stdout.write(
    `fleetgate sim: model ${model}, ${slots} slots${region ? `, region ${region}` : ""}, listening on ${node.url}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await node.close();
}
