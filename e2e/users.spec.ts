import type { APIRequestContext, Browser, Page } from "@playwright/test";
import { E2E_ADMIN_PASSWORD, expect, logIn, saveScreenshot, test, users } from "./fixtures";

/**
 * User management in the console (issue 16, finding 10): an admin disables, enables and resets
 * the password of a user, whose open console goes back to the login at once; any user changes
 * their own password; only admins are offered the Users page.
 */

const admin = { username: "admin", password: E2E_ADMIN_PASSWORD };
let made = 0;

/** A fresh viewer (unique in this run): its name and password. */
async function newViewer(api: APIRequestContext): Promise<{ username: string; password: string }> {
  const user = { username: `lifecycle-e2e-${Date.now().toString(36)}-${++made}`, password: "lifecycle-pass-123" };
  const created = await api.post("/api/v1/users", { data: { ...user, role: "viewer" } });
  expect(created.status()).toBe(201);
  return user;
}

/** A page in a browser context of its own (another person's browser: its own cookies). */
async function otherBrowser(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

async function openUsers(page: Page): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { name: "Users", exact: true })).toBeVisible();
}

const userRow = (page: Page, username: string) => page.getByTestId("user-row").and(page.locator(`[data-user="${username}"]`));

test("an admin disables a user: their open console goes back to the login and they cannot log in until enabled", async ({ page, api, browser }) => {
  const viewer = await newViewer(api);
  const theirs = await otherBrowser(browser);
  await logIn(theirs, viewer);

  await logIn(page, admin);
  await openUsers(page);
  const row = userRow(page, viewer.username);
  await expect(row).toContainText("active");
  await row.getByRole("button", { name: `Disable ${viewer.username}` }).click();
  const dialog = page.getByRole("dialog", { name: `Disable ${viewer.username}?` });
  await dialog.getByRole("button", { name: `Disable ${viewer.username}` }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("users-status")).toContainText(`${viewer.username} disabled: 1 session ended`);
  await expect(row).toContainText("disabled");
  await saveScreenshot(page, "users");

  // Their console learns it from the stream: back to the login, without a reload.
  await expect(theirs.getByLabel("Username")).toBeVisible();
  await theirs.getByLabel("Username").fill(viewer.username);
  await theirs.getByLabel("Password").fill(viewer.password);
  await theirs.getByRole("button", { name: "Log in" }).click();
  await expect(theirs.getByText("wrong username or password")).toBeVisible();

  await row.getByRole("button", { name: `Enable ${viewer.username}` }).click();
  await expect(row).toContainText("active");
  await logIn(theirs, viewer);
  await theirs.context().close();
});

test("an admin resets a password: the user is logged out, logs in with the new one and changes it on the Password page", async ({ page, api, browser }) => {
  const viewer = await newViewer(api);
  const theirs = await otherBrowser(browser);
  await logIn(theirs, viewer);

  await logIn(page, admin);
  await openUsers(page);
  await userRow(page, viewer.username).getByRole("button", { name: `Reset password of ${viewer.username}` }).click();
  const dialog = page.getByRole("dialog", { name: `Reset the password of ${viewer.username}` });
  await dialog.getByLabel("New password", { exact: true }).fill("reset-by-admin-123");
  await dialog.getByLabel("Repeat the new password").fill("reset-by-admin-12");
  await expect(dialog.getByText("The two passwords differ.")).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Reset password" })).toBeDisabled();
  await dialog.getByLabel("Repeat the new password").fill("reset-by-admin-123");
  await dialog.getByRole("button", { name: "Reset password" }).click();
  await expect(page.getByTestId("users-status")).toContainText(`Password of ${viewer.username} reset: 1 session ended`);

  await expect(theirs.getByLabel("Username")).toBeVisible();
  await logIn(theirs, { username: viewer.username, password: "reset-by-admin-123" });
  await theirs.getByRole("link", { name: "Password" }).click();
  await theirs.getByLabel("Current password").fill("not-my-password");
  await theirs.getByLabel("New password", { exact: true }).fill("chosen-by-me-1234");
  await theirs.getByLabel("Repeat the new password").fill("chosen-by-me-1234");
  await theirs.getByRole("button", { name: "Change password" }).click();
  await expect(theirs.getByText("not your current password")).toBeVisible();
  await theirs.getByLabel("Current password").fill("reset-by-admin-123");
  await theirs.getByRole("button", { name: "Change password" }).click();
  await expect(theirs.getByTestId("password-status")).toContainText("Password changed");
  // This session goes on.
  await expect(theirs.getByTestId("connection-status")).toHaveText("connected");
  await theirs.getByRole("button", { name: "Log out" }).click();
  await logIn(theirs, { username: viewer.username, password: "chosen-by-me-1234" });
  await theirs.context().close();
});

test("only admins are offered the Users page", async ({ page }) => {
  await logIn(page, users.riskManager);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" })).toHaveCount(0);
  await page.goto("/users");
  await expect(page.getByText("Only admins manage users.")).toBeVisible();
});
