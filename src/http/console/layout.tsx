/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { AuditEntry } from "../../db/schema.js";
import type { Session } from "../../staff/sessions.js";
import { showTime } from "./time.js";

export interface PageProps {
  title: string;
  session?: Session;
  /** Which nav entry is lit. */
  section?: string;
  children?: Child;
}

const nav = [
  { href: "/admin", label: "Overview", key: "overview", admin: false },
  { href: "/admin/issues", label: "Issues", key: "issues", admin: false },
  { href: "/admin/subscribers", label: "Subscribers", key: "subscribers", admin: true },
  { href: "/admin/bounces", label: "Bounces", key: "bounces", admin: true },
  { href: "/admin/staff", label: "Staff", key: "staff", admin: true },
  { href: "/admin/audit", label: "Audit log", key: "audit", admin: true },
  { href: "/admin/queues", label: "Queues", key: "queues", admin: true },
];

/** Every console page: the top bar (for a signed-in person) and one main column. */
export function Page({ title, session, section, children }: PageProps) {
  const isAdmin = session?.account.role === "admin";
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{`${title} · Digest console`}</title>
        <link rel="stylesheet" href="/admin/static/console.css" />
      </head>
      <body>
        <header class="top">
          <div class="top-in">
            <a class="brand" href="/admin">
              Digest console
            </a>
            {session && (
              <nav class="nav" aria-label="Console">
                {nav
                  .filter((n) => isAdmin || !n.admin)
                  .map((n) => (
                    <a href={n.href} class={section === n.key ? "on" : undefined}>
                      {n.label}
                    </a>
                  ))}
              </nav>
            )}
            {session && (
              <div class="who">
                <a href="/admin/account" title="Your account">
                  {session.account.email} · {session.account.role}
                </a>
                <form method="post" action="/admin/logout">
                  <input type="hidden" name="csrf" value={session.csrf} />
                  <button type="submit">Sign out</button>
                </form>
              </div>
            )}
          </div>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}

/** The hidden CSRF field every state-changing form carries. */
export const Csrf = ({ session }: { session: Session }) => (
  <input type="hidden" name="csrf" value={session.csrf} />
);

export const Badge = ({ status }: { status: string }) => <span class={`badge b-${status}`}>{status}</span>;

export function Notice({ kind, children }: { kind?: "ok" | "warn" | "bad"; children?: Child }) {
  return (
    <div
      class={`notice${kind ? ` ${kind}` : ""}`}
      role={kind === "bad" || kind === "warn" ? "alert" : "status"}
    >
      {children}
    </div>
  );
}

/**
 * A field where staff type back a figure the page shows (active readers, complaints...) before
 * an action that reaches readers: reading the figure is the point, so it is typed, not clicked.
 */
export function TypeBack(props: { id: string; figure: number; children?: Child }) {
  return (
    <div class="field">
      <label for={props.id}>
        {props.children} <span class="hint">({props.figure})</span>
      </label>
      <input
        id={props.id}
        name="confirm"
        class="figure"
        type="text"
        inputmode="numeric"
        autocomplete="off"
        required
      />
    </div>
  );
}

/** A one-button POST form (pause, cancel, unsubscribe...). */
export function Action(props: {
  session: Session;
  action: string;
  label: string;
  kind?: "secondary" | "danger";
  fields?: Record<string, string>;
}) {
  return (
    <form method="post" action={props.action}>
      <Csrf session={props.session} />
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.kind}>
        {props.label}
      </button>
    </form>
  );
}

export function AuditTable({ entries, timeZone }: { entries: AuditEntry[]; timeZone: string }) {
  if (entries.length === 0) return <p class="muted">Nothing recorded yet.</p>;
  return (
    <div class="scroll">
      <table class="stack-narrow">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th class="hide-narrow">On</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr>
              <td class="small nowrap">{showTime(e.createdAt, timeZone)}</td>
              <td>{e.actor}</td>
              <td>
                <code>{e.action}</code>
                {e.detail ? <span class="muted small"> {JSON.stringify(e.detail).slice(0, 160)}</span> : null}
              </td>
              <td class="small hide-narrow">{e.target ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
