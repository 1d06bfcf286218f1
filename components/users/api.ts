import type { Answer, ApiSchema, RequestBody } from "../api";
import { request } from "../api";

/** Users as the console reads and manages them (see README, "Users, roles and tokens"), typed by the OpenAPI document. */

export type UserView = ApiSchema<"User">;

export type NewUser = RequestBody<"createUser">;

export const userKeys = { all: ["users"] as const };

const userPath = (userId: string) => `/api/v1/users/${encodeURIComponent(userId)}`;

export const usersApi = {
  list: () => request<Answer<"listUsers">>("/api/v1/users"),
  create: (user: NewUser) => request<Answer<"createUser">>("/api/v1/users", { method: "POST", body: JSON.stringify(user) }),
  disable: (userId: string) => request<Answer<"disableUser">>(`${userPath(userId)}/disable`, { method: "POST" }),
  enable: (userId: string) => request<Answer<"enableUser">>(`${userPath(userId)}/enable`, { method: "POST" }),
  resetPassword: (userId: string, password: string) =>
    request<Answer<"resetPassword">>(`${userPath(userId)}/password`, { method: "POST", body: JSON.stringify({ password }) }),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<Answer<"changePassword">>("/api/v1/auth/password", { method: "POST", body: JSON.stringify({ currentPassword, newPassword }) }),
};

/** The server's minimum (server/api/schemas.ts): checked here too, to say so before sending. */
export const MIN_PASSWORD = 12;

export const sessionsEnded = (count: number) => `${count} ${count === 1 ? "session" : "sessions"} ended`;
