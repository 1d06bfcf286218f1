import type { UserView } from "@/server/auth/auth";
import { request } from "../api";

/** Users as the console reads and manages them (see README, "Users, roles and tokens"). */

export type { UserView };

export type NewUser = { username: string; password: string; role: UserView["role"]; accounts: string[] | null };

export const userKeys = { all: ["users"] as const };

const userPath = (userId: string) => `/api/v1/users/${encodeURIComponent(userId)}`;

export const usersApi = {
  list: () => request<{ users: UserView[] }>("/api/v1/users"),
  create: (user: NewUser) => request<{ user: UserView }>("/api/v1/users", { method: "POST", body: JSON.stringify(user) }),
  disable: (userId: string) => request<{ user: UserView; endedSessions: number }>(`${userPath(userId)}/disable`, { method: "POST" }),
  enable: (userId: string) => request<{ user: UserView }>(`${userPath(userId)}/enable`, { method: "POST" }),
  resetPassword: (userId: string, password: string) =>
    request<{ user: UserView; endedSessions: number }>(`${userPath(userId)}/password`, { method: "POST", body: JSON.stringify({ password }) }),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<{ endedSessions: number }>("/api/v1/auth/password", { method: "POST", body: JSON.stringify({ currentPassword, newPassword }) }),
};

/** The server's minimum (server/api/schemas.ts): checked here too, to say so before sending. */
export const MIN_PASSWORD = 12;

export const sessionsEnded = (count: number) => `${count} ${count === 1 ? "session" : "sessions"} ended`;
