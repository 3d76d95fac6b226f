import { createServer } from "node:net";

/**
 * A loopback port the OS just handed out and released: free now, and nothing listens on it until
 * someone binds it, which another process may do first, so whoever starts a server on it retries.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return address.port;
}
