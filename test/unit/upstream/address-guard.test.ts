import { describe, expect, it } from "vitest";
import { checkNodeUrl, classifyAddress, guardedLookup, type Resolver } from "../../../src/upstream/index.js";

const resolvesTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
const strict = (resolve: Resolver = resolvesTo("93.184.216.34")) => ({ allowPrivate: false, resolve });
const lenient = (resolve: Resolver = resolvesTo("93.184.216.34")) => ({ allowPrivate: true, resolve });

describe("address classes", () => {
  it.each([
    ["169.254.169.254", "forbidden"],
    ["169.254.0.1", "forbidden"],
    ["fd00:ec2::254", "forbidden"],
    ["fe80::1", "forbidden"],
    ["::ffff:169.254.169.254", "forbidden"],
    ["::ffff:a9fe:a9fe", "forbidden"],
    ["100.100.100.200", "forbidden"],
    ["0.0.0.0", "forbidden"],
    ["::", "forbidden"],
    ["224.0.0.1", "forbidden"],
    ["127.0.0.1", "private"],
    ["127.5.6.7", "private"],
    ["::1", "private"],
    ["::ffff:127.0.0.1", "private"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["64:ff9b::a9fe:a9fe", "private"],
    ["172.32.0.1", "public"],
    ["8.8.8.8", "public"],
    ["2606:4700::1111", "public"],
  ])("%s is %s", (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe("checking a registering node's URL", () => {
  it("accepts a public https URL and normalises it to origin and path", async () => {
    expect(await checkNodeUrl("https://gpu.example:8443/llama/", strict())).toEqual({
      ok: true,
      url: "https://gpu.example:8443/llama",
    });
  });

  it.each([
    ["ftp://gpu.example/", /http or https/],
    ["file:///etc/passwd", /http or https/],
    ["http://user:pw@gpu.example/", /credentials/],
    ["http://gpu.example/?a=1", /query/],
    ["not a url", /not a URL/],
    ["http://169.254.169.254/latest/meta-data", /link-local, metadata/],
    ["http://[fd00:ec2::254]/", /link-local, metadata/],
    ["http://[::ffff:169.254.169.254]/", /link-local, metadata/],
    ["http://127.0.0.1:8080", /loopback or private/],
    ["http://[::1]:8080", /loopback or private/],
    ["http://10.0.0.7:8080", /loopback or private/],
    ["http://2130706433:8080", /loopback or private/],
    ["http://0x7f.1:8080", /loopback or private/],
  ])("refuses %s", async (url, reason) => {
    const check = await checkNodeUrl(url, strict());
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toMatch(reason);
  });

  it("refuses a name that resolves to a metadata or private address, checking every address", async () => {
    const metadata = await checkNodeUrl(
      "http://metadata.evil.example/",
      strict(resolvesTo("169.254.169.254")),
    );
    expect(!metadata.ok && metadata.reason).toMatch(/resolves to 169\.254\.169\.254/);
    const mixed = await checkNodeUrl(
      "http://mixed.evil.example/",
      strict(resolvesTo("93.184.216.34", "10.0.0.1")),
    );
    expect(!mixed.ok && mixed.reason).toMatch(/10\.0\.0\.1/);
    const failing: Resolver = async () => {
      throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
    };
    const unknown = await checkNodeUrl("http://nowhere.example/", strict(failing));
    expect(!unknown.ok && unknown.reason).toMatch(/does not resolve \(ENOTFOUND\)/);
  });

  it("allows loopback and private ranges with allow_private_urls, but never metadata", async () => {
    expect((await checkNodeUrl("http://127.0.0.1:8080", lenient())).ok).toBe(true);
    expect((await checkNodeUrl("http://node.lan/", lenient(resolvesTo("192.168.1.20")))).ok).toBe(true);
    expect((await checkNodeUrl("http://169.254.169.254/", lenient())).ok).toBe(false);
    expect((await checkNodeUrl("http://imds.lan/", lenient(resolvesTo("fd00:ec2::254")))).ok).toBe(false);
  });
});

describe("the connect-time lookup", () => {
  const lookup = (policy: Parameters<typeof guardedLookup>[0], all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; result: unknown }>((resolve) => {
      guardedLookup(policy)("rebind.example", { all }, (err, address) => resolve({ err, result: address }));
    });

  it("refuses a name that now resolves to a private address (DNS rebinding)", async () => {
    const { err } = await lookup(strict(resolvesTo("127.0.0.1")), false);
    expect(err?.code).toBe("FLEETGATE_BLOCKED_ADDRESS");
    expect(err?.message).toMatch(/loopback or private/);
  });

  it("keeps only the allowed addresses of a mixed answer", async () => {
    const { err, result } = await lookup(strict(resolvesTo("10.0.0.1", "93.184.216.34")), true);
    expect(err).toBeNull();
    expect(result).toEqual([{ address: "93.184.216.34", family: 4 }]);
    const single = await lookup(strict(resolvesTo("10.0.0.1", "93.184.216.34")), false);
    expect(single.result).toBe("93.184.216.34");
  });
});
