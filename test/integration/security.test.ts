import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer, TestDatabase } from "./harness";
import { databasesUnderTest, startServer } from "./harness";

/**
 * Security regressions: each finding of the attack review, reproduced against a real server.
 * (The embedded database is enough: none of them depends on the storage.)
 */

const [embedded] = await databasesUnderTest("the security suite");

/** A raw request with the headers given as they are; its status, or "no answer" after `waitMs`. */
function rawStatus(url: string, path: string, headers: Record<string, string>, waitMs = 2_000): Promise<number | "no answer"> {
  return new Promise((resolve) => {
    const request = http.get(`${url}${path}`, { headers, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.setTimeout(waitMs, () => {
      request.destroy();
      resolve("no answer");
    });
    request.on("error", () => resolve("no answer"));
  });
}

describe("security regressions", () => {
  let db: TestDatabase;
  let server: RunningServer;

  beforeAll(async () => {
    db = await embedded!.create();
    server = await startServer(db.env);
  });

  afterAll(async () => {
    await server?.stop("SIGTERM");
    await db?.cleanup();
  });

  it("refuses a stream request with a malformed Origin at once, and stays up (finding 4)", async () => {
    const handshake = "/socket.io/?EIO=4&transport=polling";
    for (const origin of ["null", "foo", "http://[", "http://%", "://"]) {
      expect(await rawStatus(server.url, handshake, { origin }), `Origin: ${origin}`).toBe(403);
    }
    // Another site's page is refused too; the server's own origin (and none, for programs) is not.
    expect(await rawStatus(server.url, handshake, { origin: "https://attacker.example" })).toBe(403);
    const own = new URL(server.url).origin;
    expect(await rawStatus(server.url, handshake, { origin: own })).not.toBe(403);
    expect(server.output()).not.toMatch(/TypeError: Invalid URL/);
  });
});
