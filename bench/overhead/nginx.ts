/** nginx as the reference C proxy: one worker, keep-alive upstream pool, no buffering of streams. */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/support/ports.js";
import { type Child, PROXY_CORE, pinnedCommand, wrap } from "./processes.js";

const READY_TIMEOUT_MS = 10_000;

export function nginxVersion(): string | undefined {
  // nginx prints its version on stderr.
  const run = spawnSync("nginx", ["-v"], { encoding: "utf8" });
  if (run.error || run.status !== 0) return undefined;
  return /nginx\/[\w.]+/.exec(`${run.stderr}${run.stdout}`)?.[0] ?? "nginx";
}

function nginxConfig(prefix: string, port: number, upstream: URL): string {
  const temp = (name: string) => join(prefix, "tmp", name);
  return `worker_processes 1;
worker_rlimit_nofile 30000;
daemon off;
master_process on;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} warn;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${temp("body")};
  proxy_temp_path ${temp("proxy")};
  fastcgi_temp_path ${temp("fastcgi")};
  uwsgi_temp_path ${temp("uwsgi")};
  scgi_temp_path ${temp("scgi")};
  upstream fast { server ${upstream.host}; keepalive 1024; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    location / {
      proxy_pass http://fast;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
`;
}

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error("nginx did not start serving in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts nginx from a temporary prefix, in the foreground, pinned to the proxy core. */
export async function startNginx(upstreamUrl: string): Promise<{ child: Child; url: string }> {
  const prefix = mkdtempSync(join(tmpdir(), "fleetgate-bench-nginx-"));
  mkdirSync(join(prefix, "tmp"));
  // Workers may run as an unprivileged user; they must still reach the temp directories.
  chmodSync(prefix, 0o755);
  chmodSync(join(prefix, "tmp"), 0o777);
  const port = await freePort();
  const conf = join(prefix, "nginx.conf");
  writeFileSync(conf, nginxConfig(prefix, port, new URL(upstreamUrl)));
  const [command, args] = pinnedCommand(PROXY_CORE, "nginx", ["-p", prefix, "-c", conf]);
  const child = wrap(spawn(command, args, { stdio: ["ignore", "ignore", "inherit"] }));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(url);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { child, url };
}
