"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { useEffect, useMemo, useState } from "react";
import type { Me } from "./api";
import { ApiError, api, queryKeys } from "./api";
import { ConnectionBadge } from "./ConnectionBadge";
import { Login } from "./Login";
import { SessionContext, canOperate, may } from "./session";
import { onCredentialsEnded, useLiveStream } from "./useLiveStream";

/** The console around every page: the login until there is a session, then the top bar and the live stream. */
export function Shell({ children }: { children: ReactNode }) {
  const me = useQuery({ queryKey: queryKeys.me, queryFn: api.me, retry: false });
  if (me.isPending) return <p className="muted page">Loading…</p>;
  if (me.error instanceof ApiError && me.error.status === 401) return <Login />;
  if (me.isError) {
    return (
      <p className="error page" role="alert">
        Cannot reach Riskgate: {me.error.message}
      </p>
    );
  }
  return <LiveConsole me={me.data}>{children}</LiveConsole>;
}

const NAV: { href: string; label: string; also?: string[]; adminOnly?: boolean }[] = [
  { href: "/", label: "Overview" },
  { href: "/presets", label: "Presets" },
  { href: "/backtests", label: "Backtests", also: ["/replay"] },
  { href: "/users", label: "Users", adminOnly: true },
];

function LiveConsole({ me, children }: { me: Me; children: ReactNode }) {
  const queryClient = useQueryClient();
  const stream = useLiveStream();
  const pathname = usePathname();
  const { phase, staleSince } = stream;
  const session = useMemo(
    () => ({ me, canOperate: canOperate(me), may: (permission: Parameters<typeof may>[1]) => may(me, permission), stream: { phase, staleSince } }),
    [me, phase, staleSince],
  );
  const nav = NAV.filter((item) => !item.adminOnly || me.user.role === "admin");
  // The server ended the stream because this login ended (logged out elsewhere, disabled, a new
  // password, expired): nothing of it stays in memory, and asking who is there shows the login.
  useEffect(
    () =>
      onCredentialsEnded(() => {
        queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] });
        void queryClient.resetQueries({ queryKey: queryKeys.me });
      }),
    [queryClient],
  );
  return (
    <SessionContext.Provider value={session}>
      <div className="page">
        <header className="topbar">
          <div className="brand">
            <h1>
              <Link href="/">Riskgate</Link>
            </h1>
            <nav aria-label="Main">
              {nav.map((item) => {
                const current = item.href === "/" ? pathname === "/" : [item.href, ...(item.also ?? [])].some((href) => pathname.startsWith(href));
                return (
                  <Link key={item.href} href={item.href} aria-current={current ? "page" : undefined}>
                    {item.label}
                  </Link>
                );
              })}
            </nav>
          </div>
          <div className="user">
            <ConnectionBadge status={stream} />
            <ThemeToggle />
            <span data-testid="current-user">
              {me.user.name} <span className="muted">({me.user.role.replace("_", " ")})</span>
            </span>
            {me.user.kind === "user" && (
              <Link href="/password" aria-current={pathname === "/password" ? "page" : undefined}>
                Password
              </Link>
            )}
            {me.user.kind === "user" && (
              <button
                onClick={async () => {
                  await api.logout();
                  // Nothing of this session stays in memory; asking who is there again shows the login.
                  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] });
                  await queryClient.resetQueries({ queryKey: queryKeys.me });
                }}
              >
                Log out
              </button>
            )}
          </div>
        </header>
        <main className={stream.phase === "disconnected" ? "stale" : ""}>{children}</main>
      </div>
    </SessionContext.Provider>
  );
}

const THEME_KEY = "riskgate-theme";

/** Dark by default; the choice is kept in this browser. */
function ThemeToggle() {
  // The shell renders in the browser only (after the session is known), so the saved choice can be read at once.
  const [theme, setTheme] = useState<"dark" | "light">(() => (window.localStorage.getItem(THEME_KEY) === "light" ? "light" : "dark"));
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      aria-label={`Switch to the ${next} theme`}
      onClick={() => {
        window.localStorage.setItem(THEME_KEY, next);
        setTheme(next);
      }}
    >
      {theme === "dark" ? "Light" : "Dark"}
    </button>
  );
}
