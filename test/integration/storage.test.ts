import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../fixtures";
import { alive } from "@/server/db/embedded-postgres";
import type { RunningServer } from "./harness";
import { api, databasesUnderTest, engineConfigFile, freshPostgresDatabase, removeDataDir, runToExit, startServer, tempDir } from "./harness";

/**
 * The storage promises: an answer leaves only once its commit is on disk; one server decides
 * per database; a PostgreSQL left running by a killed server is stopped cleanly at the next start.
 */

const roomyThrottle = { RISKGATE_ENGINE_CONFIG: engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 1000 } } }) };
const databases = await databasesUnderTest("the storage suite");

/** A connection of the test's own to the embedded cluster of `dataDir`, over its unix socket. */
async function connectTo(dataDir: string): Promise<pg.Client> {
  const client = new pg.Client({ host: path.join(dataDir, "postgres"), port: 5432, user: "postgres", database: "riskgate" });
  await client.connect();
  return client;
}

function postmasterPid(dataDir: string): number {
  return Number(fs.readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
}

describe("durable acknowledgement on the embedded PostgreSQL", () => {
  let dataDir: string;
  let server: RunningServer;
  let sql: pg.Client;

  beforeAll(async () => {
    dataDir = tempDir("riskgate-durable-");
    server = await startServer({ RISKGATE_DATA_DIR: dataDir, ...roomyThrottle });
    sql = await connectTo(dataDir);
    // The WAL writer flushes in the background every 200 ms by default, which would hide an
    // answer sent before its commit was flushed. Slowed to 10 s, only a synchronous commit has
    // its WAL on disk by the time the answer arrives.
    await sql.query("ALTER SYSTEM SET wal_writer_delay = '10s'");
    await sql.query("ALTER SYSTEM SET wal_writer_flush_after = '1GB'");
    await sql.query("SELECT pg_reload_conf()");
    await sql.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
  });

  afterAll(async () => {
    await sql?.end();
    await server?.stop();
    await removeDataDir(dataDir);
  });

  /** Whether the COMMIT record of the transaction that wrote `seq` ends at or before `flushedLsn`, and where it ends. */
  async function commitFlushed(seq: number, fromLsn: string, flushedLsn: string): Promise<{ commitEndLsn: string; flushed: boolean }> {
    const row = await sql.query<{ xid: string }>(`SELECT xmin::text AS xid FROM ledger_events WHERE seq = $1`, [seq]);
    const xid = row.rows[0]!.xid;
    const commit = await sql.query<{ end_lsn: string; flushed: boolean }>(
      `SELECT end_lsn::text, end_lsn <= $3::pg_lsn AS flushed FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_insert_lsn())
       WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT' AND xid::text = $2`,
      [fromLsn, xid, flushedLsn],
    );
    expect(commit.rowCount, `one COMMIT record for transaction ${xid}`).toBe(1);
    return { commitEndLsn: commit.rows[0]!.end_lsn, flushed: commit.rows[0]!.flushed };
  }

  const lsn = async (which: "insert" | "flush") => (await sql.query<{ lsn: string }>(`SELECT pg_current_wal_${which}_lsn()::text AS lsn`)).rows[0]!.lsn;

  it("runs the cluster with fsync and synchronous commits on", async () => {
    const settings = await sql.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method') ORDER BY name`,
    );
    expect(Object.fromEntries(settings.rows.map((row) => [row.name, row.setting]))).toMatchObject({ fsync: "on", synchronous_commit: "on", full_page_writes: "on" });
    expect(settings.rows.find((row) => row.name === "wal_sync_method")!.setting).not.toBe("");
  });

  it("answers an intent only once the WAL of its commit is flushed to disk", async () => {
    expect((await api(server.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
    for (let n = 0; n < 10; n++) {
      const from = await lsn("insert");
      const answer = await api(server.url, "POST", "/api/v1/intents", sampleIntent(`durable-${n}`));
      // Read at once: whatever was flushed when the answer arrived is flushed now, at the least.
      const flushed = await lsn("flush");
      expect(answer.status).toBe(200);
      const commit = await commitFlushed(answer.body!.seq as number, from, flushed);
      expect(commit.flushed, `commit ending at ${commit.commitEndLsn} was flushed (flush LSN ${flushed}) before the answer`).toBe(true);
    }
  });

  it("would catch an answer sent before the flush: an asynchronous commit is not flushed yet when it returns", async () => {
    // The control case of the check above: the same measurement on a commit made with
    // synchronous_commit off (what the server would do without durable acknowledgement).
    const own = await connectTo(dataDir);
    try {
      await own.query("SET synchronous_commit = off");
      await own.query(`CREATE TABLE IF NOT EXISTS async_probe (n int)`);
      await own.query(`INSERT INTO async_probe VALUES (1)`);
      // Its COMMIT record ends at or before the insert position; the flush has not reached it
      // (pg_walinspect cannot even read it yet: it reads only flushed WAL).
      const written = await lsn("insert");
      const flushed = await lsn("flush");
      const behind = await sql.query<{ behind: boolean }>(`SELECT $1::pg_lsn < $2::pg_lsn AS behind`, [flushed, written]);
      expect(behind.rows[0]!.behind, `flush ${flushed} behind the asynchronous commit's WAL at ${written}`).toBe(true);
    } finally {
      await own.end();
    }
  });

});

describe("one writer per database", () => {
  const external = databases.find((database) => database.name === "PostgreSQL")!;

  it.skipIf(external.skip)("refuses to start a second server on a database another server decides on, naming the holder", async () => {
    const database = await freshPostgresDatabase();
    const first = await startServer({ DATABASE_URL: database.url });
    try {
      const second = await runToExit({ DATABASE_URL: database.url, PORT: "0" });
      expect(second.code).toBe(1);
      expect(second.output).toMatch(new RegExp(`another Riskgate server is deciding on this database \\(held by riskgate pid ${first.child.pid} on `));
      // The first goes on deciding.
      expect((await api(first.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
      expect((await api(first.url, "POST", "/api/v1/intents", sampleIntent("after-second"))).body!.decision.outcome).toBe("allowed");
    } finally {
      await first.stop();
      await database.drop();
    }
  });

  it.skipIf(external.skip)("lets a new server decide once the previous one was killed", async () => {
    const database = await freshPostgresDatabase();
    const first = await startServer({ DATABASE_URL: database.url });
    await first.stop("SIGKILL");
    const next = await startServer({ DATABASE_URL: database.url });
    try {
      expect((await api(next.url, "GET", "/api/health")).body).toMatchObject({ status: "ok" });
    } finally {
      await next.stop();
      await database.drop();
    }
  });
});

describe("the embedded PostgreSQL's life", () => {
  const dataDirs: string[] = [];
  afterEach(async () => {
    for (const dir of dataDirs.splice(0)) await removeDataDir(dir);
  });

  it("stops with the server on SIGTERM", async () => {
    const dataDir = tempDir("riskgate-life-");
    dataDirs.push(dataDir);
    const server = await startServer({ RISKGATE_DATA_DIR: dataDir });
    const pid = postmasterPid(dataDir);
    expect(alive(pid)).toBe(true);
    expect(await server.stop("SIGTERM")).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
  });

  it("stops the PostgreSQL a kill -9'd server left running, then starts its own on the same data with nothing lost", async () => {
    const dataDir = tempDir("riskgate-life-");
    dataDirs.push(dataDir);
    const first = await startServer({ RISKGATE_DATA_DIR: dataDir, ...roomyThrottle });
    expect((await api(first.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
    const acknowledged = await api(first.url, "POST", "/api/v1/intents", sampleIntent("before-kill"));
    expect(acknowledged.status).toBe(200);
    const leftOver = postmasterPid(dataDir);
    await first.stop("SIGKILL");
    expect(alive(leftOver), "PostgreSQL outlives a kill -9 of its server").toBe(true);

    const next = await startServer({ RISKGATE_DATA_DIR: dataDir, ...roomyThrottle });
    try {
      expect(next.output()).toContain(`stopping the server (pid ${leftOver}) left running by a previous start`);
      expect(alive(leftOver)).toBe(false);
      expect(postmasterPid(dataDir)).not.toBe(leftOver);
      const ledger = await api(next.url, "GET", `/api/v1/ledger?afterSeq=${(acknowledged.body!.seq as number) - 1}&limit=1`);
      expect(ledger.body!.events[0]).toMatchObject({ seq: acknowledged.body!.seq, event: { type: "intent.decided", decision: { intentId: "before-kill", accountId: DEMO_ACCOUNT } } });
    } finally {
      await next.stop();
    }
  });

  it("answers an intent retried after a restart with its first decision, from the ledger, and records nothing again", async () => {
    const dataDir = tempDir("riskgate-life-");
    dataDirs.push(dataDir);
    const first = await startServer({ RISKGATE_DATA_DIR: dataDir, ...roomyThrottle });
    expect((await api(first.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
    const answered = await api(first.url, "POST", "/api/v1/intents", sampleIntent("retried-after-restart"));
    expect(answered.status).toBe(200);
    await first.stop("SIGKILL");

    const next = await startServer({ RISKGATE_DATA_DIR: dataDir, ...roomyThrottle });
    try {
      const seqBefore = (await api(next.url, "GET", "/api/health")).body!.seq as number;
      // The retry and a new intent in the same moment: one is answered from the ledger, the other decided.
      const [retried, fresh] = await Promise.all([
        api(next.url, "POST", "/api/v1/intents", sampleIntent("retried-after-restart")),
        api(next.url, "POST", "/api/v1/intents", sampleIntent("new-after-restart")),
      ]);
      expect(retried.status).toBe(200);
      expect(retried.headers.get("idempotent-replayed")).toBe("true");
      expect(retried.body).toEqual(answered.body);
      expect(fresh.status).toBe(200);
      const after = await api(next.url, "GET", `/api/v1/ledger?afterSeq=${seqBefore}&limit=100`);
      const received = (after.body!.events as { event: { type: string; intent?: { intentId: string } } }[]).filter((record) => record.event.type === "intent.received");
      expect(received.map((record) => record.event.intent!.intentId)).toEqual(["new-after-restart"]);
    } finally {
      await next.stop();
    }
  });

  it("starts after PostgreSQL itself was killed with kill -9, recovering every acknowledged decision from its WAL", async () => {
    const dataDir = tempDir("riskgate-life-");
    dataDirs.push(dataDir);
    const first = await startServer({ RISKGATE_DATA_DIR: dataDir, ...roomyThrottle });
    expect((await api(first.url, "POST", "/api/v1/market", EURUSD_TICK)).status).toBe(200);
    const acks = await Promise.all(Array.from({ length: 20 }, (_, n) => api(first.url, "POST", "/api/v1/intents", sampleIntent(`pg-crash-${n}`))));
    for (const ack of acks) expect(ack.status).toBe(200);
    process.kill(postmasterPid(dataDir), "SIGKILL");
    await first.stop("SIGKILL");

    const next = await startServer({ RISKGATE_DATA_DIR: dataDir, ...roomyThrottle });
    try {
      for (const ack of acks) {
        const at = await api(next.url, "GET", `/api/v1/ledger?afterSeq=${(ack.body!.seq as number) - 1}&limit=1`);
        expect(at.body!.events[0]).toMatchObject({ seq: ack.body!.seq, event: { type: "intent.decided", decision: ack.body!.decision } });
      }
    } finally {
      await next.stop();
    }
  });

  it("keeps its files in a 0700 folder it cannot enter as the postgres user (a home such as /root), owned by the server's user", async () => {
    const home = tempDir("riskgate-home-"); // mkdtemp: mode 0700
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    const dataDir = path.join(home, "data");
    dataDirs.push(dataDir, home);
    const server = await startServer({ RISKGATE_DATA_DIR: dataDir });
    try {
      expect((await api(server.url, "GET", "/api/health")).body).toMatchObject({ status: "ok", database: "embedded" });
      expect(fs.statSync(path.join(dataDir, "postgres", "PG_VERSION")).uid).toBe(process.getuid!());
    } finally {
      await server.stop();
    }
  });
});
