import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, postJson, startFleet, type TestFleet } from "../support/fleet.js";
import { chat, rawConnection, recordingLogger, trickle } from "./client-support.js";

/**
 * Issue 15, finding 6: the HTTP server's own limits. A slowloris client held its connection 90 s,
 * a body trickled in a byte a second was still open after 150 s, an upload went on being read after
 * its 413, connections were unbounded, and a client hanging up mid-body was logged as a gateway error.
 */
const HEADERS_MS = 300;
const BODY_MS = 600;
const IDLE_MS = 200;
/** Node keeps an idle keep-alive socket up to a second longer than it announces, so clients close first. */
const NODE_IDLE_GRACE_MS = 1000;

const postHead = (extra = "") =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n${extra}`;

describe("hostile clients: the server's own limits", () => {
  const recorded = recordingLogger();
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny", tokensPerSecond: 20 }], {
      log: recorded.log,
      config: {
        server: {
          headers_timeout_ms: HEADERS_MS,
          body_timeout_ms: BODY_MS,
          idle_timeout_ms: IDLE_MS,
          body_limit_bytes: 1024,
        },
      },
    });
  });
  afterAll(() => fleet.close());

  it("closes a connection whose headers trickle in (slowloris), and one that never sends a byte", async () => {
    const [slowloris, silent] = await Promise.all([
      rawConnection(
        fleet.gateway.url,
        (socket) => trickle(socket, postHead("X-Slow: ".padEnd(500, "a")), 20),
        3000,
      ),
      rawConnection(fleet.gateway.url, () => undefined, 3000),
    ]);
    expect(slowloris.closedAfterMs).toBeLessThan(HEADERS_MS + 700);
    expect(silent.closedAfterMs).toBeLessThan(HEADERS_MS + 700);
  });

  it("closes a connection whose body trickles in a byte at a time", async () => {
    const outcome = await rawConnection(
      fleet.gateway.url,
      (socket) => {
        socket.write(postHead("Content-Length: 1000\r\n\r\n"));
        trickle(socket, () => "a", 20);
      },
      4000,
    );
    expect(outcome.closedAfterMs).toBeLessThan(BODY_MS + 700);
  });

  it("closes an idle keep-alive connection after idle_timeout_ms", async () => {
    const outcome = await rawConnection(
      fleet.gateway.url,
      (socket) => socket.write("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"),
      4000,
    );
    expect(outcome.received).toMatch(/^HTTP\/1\.1 200/);
    expect(outcome.closedAfterMs).toBeLessThan(IDLE_MS + NODE_IDLE_GRACE_MS + 700);
  });

  it("bounds only the request: answers, streamed or not, may take far longer than every limit", async () => {
    const slow = chat({ max_tokens: 30, ignore_eos: true });
    const [streamed, whole] = await Promise.all([
      postJson(`${fleet.baseURL}/chat/completions`, { ...slow, stream: true }),
      postJson(`${fleet.baseURL}/chat/completions`, slow),
    ]);
    expect(streamed.status, await streamed.clone().text()).toBe(200);
    expect((await streamed.text()).trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(whole.status).toBe(200);
    expect(((await whole.json()) as { choices: unknown[] }).choices).toHaveLength(1);
  });

  const oversized: Array<[string, (socket: Socket) => void]> = [
    [
      "a declared Content-Length over the limit",
      (socket) => socket.write(postHead("Content-Length: 100000000\r\n\r\n")),
    ],
    [
      "a chunked body that grows past the limit",
      (socket) => socket.write(postHead("Transfer-Encoding: chunked\r\n\r\n")),
    ],
  ];
  it.each(oversized)(
    "answers 413 to %s, then closes the connection instead of reading on",
    async (_, start) => {
      const chunk = `200\r\n${"a".repeat(0x200)}\r\n`;
      const outcome = await rawConnection(
        fleet.gateway.url,
        (socket) => {
          start(socket);
          trickle(socket, () => chunk, 5);
        },
        3000,
      );
      expect(outcome.received).toMatch(/^HTTP\/1\.1 413/);
      expect(outcome.received).toMatch(/\r\nconnection: close\r\n/i);
      expect(outcome.received).toContain('"code":"request_too_large"');
      expect(outcome.closedAfterMs).toBeLessThan(1000);
    },
  );

  it("logs a client that hangs up mid-body at debug level as client_closed, not as an error", async () => {
    recorded.lines.length = 0;
    await rawConnection(
      fleet.gateway.url,
      (socket) => {
        socket.write(`${postHead("Content-Length: 1000\r\n\r\n")}{"model":"tiny",`);
        setTimeout(() => socket.destroy(), 50);
      },
      2000,
    );
    expect(await eventually(() => recorded.lines.some((line) => line.msg === "client_closed"))).toBe(true);
    expect(recorded.lines.find((line) => line.msg === "client_closed")?.level).toBe("debug");
    expect(recorded.lines.filter((line) => line.level === "error")).toEqual([]);
  });
});

describe("hostile clients: the connection cap", () => {
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startFleet([{ model: "tiny" }], { config: { server: { max_connections: 2 } } });
  });
  afterAll(() => fleet.close());

  it("closes connections beyond server.max_connections at once, and accepts again when one ends", async () => {
    const held: Socket[] = [];
    const holders = [0, 1].map(() => rawConnection(fleet.gateway.url, (socket) => held.push(socket), 5000));
    expect(await eventually(() => held.length === 2)).toBe(true);
    const refused = await rawConnection(
      fleet.gateway.url,
      (socket) => socket.write("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"),
      1000,
    );
    expect(refused.received).toBe("");
    expect(refused.closedAfterMs).toBeLessThan(500);
    held[0]?.destroy();
    const again = async () => {
      const outcome = await rawConnection(
        fleet.gateway.url,
        (socket) => socket.write("GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n"),
        1000,
      );
      return outcome.received.startsWith("HTTP/1.1 200");
    };
    expect(await eventually(again)).toBe(true);
    held[1]?.destroy();
    await Promise.all(holders);
  });
});
