import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";

/**
 * The SSRF guard for nodes that register themselves: a URL anyone holding an enrollment token can
 * name must not make the gateway talk to its own cloud's metadata service or to a private network.
 * The URL is checked after DNS resolution, and every connection to a registered node resolves its
 * name again through the same check (an undici `connect` lookup hook), so a name that answers with
 * a public address at registration and a private one later (DNS rebinding) still cannot get through.
 */

export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Name resolution, injectable so tests can play a lying or rebinding DNS server. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export type AddressClass = "public" | "private" | "forbidden";

function blockList(v4: readonly string[], v6: readonly string[]): BlockList {
  const list = new BlockList();
  const add = (cidr: string, family: "ipv4" | "ipv6") => {
    const [network, prefix] = cidr.split("/");
    list.addSubnet(network!, Number(prefix), family);
  };
  for (const cidr of v4) add(cidr, "ipv4");
  for (const cidr of v6) add(cidr, "ipv6");
  return list;
}

/** Never a node, whatever the config says: link-local (cloud metadata lives there), unspecified, multicast. */
const FORBIDDEN = blockList(
  [
    "0.0.0.0/8",
    "169.254.0.0/16",
    // Alibaba Cloud's and Azure's metadata / wire servers, outside link-local.
    "100.100.100.200/32",
    "168.63.129.16/32",
    "224.0.0.0/4",
    "240.0.0.0/4",
  ],
  ["::/128", "fe80::/10", "fd00:ec2::254/128", "ff00::/8"],
);

/** Loopback and private networks: refused unless `fleet.allow_private_urls`. */
const PRIVATE = blockList(
  ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "198.18.0.0/15"],
  // Loopback, unique-local, and NAT64 (which embeds an IPv4 address that could be anything).
  ["::1/128", "fc00::/7", "64:ff9b::/96"],
);

/** BlockList also matches IPv4-mapped IPv6 (::ffff:169.254.169.254) against the IPv4 ranges. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address) === 6 ? "ipv6" : "ipv4";
  if (FORBIDDEN.check(address, family)) return "forbidden";
  if (PRIVATE.check(address, family)) return "private";
  return "public";
}

export interface GuardPolicy {
  readonly allowPrivate: boolean;
  readonly resolve: Resolver;
}

function refusal(address: string, policy: GuardPolicy): string | undefined {
  const kind = classifyAddress(address);
  if (kind === "forbidden") return `${address} is a link-local, metadata or reserved address`;
  if (kind === "private" && !policy.allowPrivate)
    return `${address} is a loopback or private address (set fleet.allow_private_urls to allow it)`;
  return undefined;
}

export type UrlCheck =
  | { readonly ok: true; readonly url: string }
  | { readonly ok: false; readonly reason: string };

/** Whether a registering node's URL may be used: scheme, credentials, then every address its name has. */
export async function checkNodeUrl(raw: string, policy: GuardPolicy): Promise<UrlCheck> {
  const url = URL.parse(raw);
  if (!url) return { ok: false, reason: "is not a URL" };
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, reason: "must be http or https" };
  if (url.username !== "" || url.password !== "")
    return { ok: false, reason: "must not contain credentials" };
  if (url.search !== "" || url.hash !== "") return { ok: false, reason: "must not have a query or fragment" };
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await policy.resolve(host);
  } catch (err) {
    return {
      ok: false,
      reason: `host '${host}' does not resolve (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    };
  }
  if (addresses.length === 0) return { ok: false, reason: `host '${host}' has no address` };
  // Every address, not just the first: the connection could go to any of them.
  for (const { address } of addresses) {
    const why = refusal(address, policy);
    if (why) return { ok: false, reason: `resolves to ${why}` };
  }
  return { ok: true, url: `${url.origin}${url.pathname.replace(/\/+$/, "")}` };
}

/** The error a refused connection fails with; its code lets logs and reports say why. */
export class BlockedAddressError extends Error {
  readonly code = "FLEETGATE_BLOCKED_ADDRESS";
  constructor(hostname: string, reason: string) {
    super(`refused to connect to '${hostname}': ${reason}`);
    this.name = "BlockedAddressError";
  }
}

/**
 * A `lookup` for net.connect that resolves through the policy and drops refused addresses. Only
 * names reach it: an IP literal in a URL was checked when the node registered and cannot change.
 */
export function guardedLookup(policy: GuardPolicy): LookupFunction {
  return (hostname, options, callback) => {
    policy.resolve(hostname).then(
      (addresses) => {
        const allowed = addresses.filter(({ address }) => refusal(address, policy) === undefined);
        const first = allowed[0];
        if (!first) {
          const why = addresses[0] ? refusal(addresses[0].address, policy)! : "no address";
          callback(new BlockedAddressError(hostname, why), "", 0);
        } else if (options.all) {
          callback(
            null,
            allowed.map(({ address, family }) => ({ address, family })),
          );
        } else {
          callback(null, first.address, first.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 0),
    );
  };
}
