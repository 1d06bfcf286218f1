import { parentPort, workerData } from "node:worker_threads";
import { CsvError, parseBars } from "./csv";
import type { CsvUpload, WorkerMessage, WorkerTask } from "./jobs-worker";

/**
 * An uploaded CSV read in a worker thread (see jobs.ts), before its run is queued, so that the
 * server's event loop never parses one: posts whether it is good, or what is wrong with it. It
 * loads only the CSV reader, not a run's modules: the thread starts in about half the time.
 */

/** Reads an upload as its run will read it (the same parser, with its limits). */
export function checkUpload(upload: CsvUpload): WorkerMessage {
  try {
    parseBars(upload.text, upload.name, upload.symbol);
    return { type: "checked", problem: null };
  } catch (error) {
    if (error instanceof CsvError) return { type: "checked", problem: error.message };
    throw error;
  }
}

if (parentPort) {
  // Anything but a CsvError is thrown: the thread's error event says why.
  const { upload } = workerData as Extract<WorkerTask, { kind: "check" }>;
  parentPort.postMessage(checkUpload(upload));
}
