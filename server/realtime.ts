import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import type { ClientToServer, ServerToClient } from "./realtime-protocol";
import type { Runtime } from "./runtime";

/**
 * Socket.IO on the same port as Next. A dashboard gets a snapshot when it connects (and when it
 * asks to resync), then every committed change. Listeners run only after the ledger commit.
 */
export function attachRealtime(httpServer: HttpServer, runtime: Runtime) {
  const io = new Server<ClientToServer, ServerToClient>(httpServer, {
    serveClient: false,
    // Leave other upgrade requests (Next's dev HMR) alone.
    destroyUpgrade: false,
  });

  io.on("connection", (socket) => {
    socket.emit("snapshot", runtime.snapshot());
    // `resync` takes no arguments; anything sent with it is ignored, never trusted.
    socket.on("resync", () => socket.emit("snapshot", runtime.snapshot()));
  });

  const unsubscribe = runtime.subscribe((committed) => {
    io.emit("change", {
      fromSeq: committed.fromSeq,
      toSeq: committed.toSeq,
      firm: committed.firm,
      events: committed.records,
      accounts: committed.accounts,
      decisions: committed.decisions,
    });
  });

  return {
    connectedClients: () => io.engine.clientsCount,
    async close() {
      unsubscribe();
      await io.close();
    },
  };
}
