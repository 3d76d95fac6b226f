#!/usr/bin/env node
import { unsupportedNodeMessage } from "./node-support.js";

// On too old a Node the command modules fail while loading (undici 8 with "Cannot read properties of
// undefined (reading 'bind')"), which says nothing about the cause: check first, then load them.
const unsupported = unsupportedNodeMessage(process.version);
if (unsupported !== undefined) {
  process.stderr.write(`fleetgate: ${unsupported}\n`);
  process.exit(1);
}

import("./commands.js")
  .then(({ main }) => main(process.argv.slice(2)))
  .catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`fleetgate: ${message}\n`);
    // Exit 2 for a command line that cannot work as written, 1 for everything else.
    process.exit(err instanceof Error && err.name === "CliUsageError" ? 2 : 1);
  });
