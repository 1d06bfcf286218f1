/**
 * The one-time admin password of a first start, in a box: printed as the server's last lines
 * (after every other line of the start) so that it cannot be missed.
 */
export function passwordBox(password: string, url: string): string {
  const lines = [
    "First start: the user \"admin\" has this one-time password:",
    "",
    `    ${password}`,
    "",
    `Log in with it at ${url}`,
    "It is not shown again (set RISKGATE_ADMIN_PASSWORD before",
    "the first start to choose it).",
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const rule = "═".repeat(width + 4);
  return ["", `╔${rule}╗`, ...lines.map((line) => `║  ${line.padEnd(width)}  ║`), `╚${rule}╝`, ""].join("\n");
}
