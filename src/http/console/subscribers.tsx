/** @jsxImportSource hono/jsx */
import { Readable } from "node:stream";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { subscriberStatuses } from "../../db/schema.js";
import { DigestError } from "../../errors.js";
import { recordAudit } from "../../staff/audit.js";
import type { Session } from "../../staff/sessions.js";
import { normaliseAddress } from "../../subscribers/address.js";
import {
  addSubscriber,
  findSubscriber,
  listSubscribers,
  type SubscriberPage,
} from "../../subscribers/admin.js";
import { exportSubscribers, importSubscribers } from "../../subscribers/csv.js";
import { eraseReader } from "../../subscribers/erase.js";
import { unsubscribe } from "../../subscribers/lifecycle.js";
import { actorOf, type ConsoleContext, type ConsoleDeps, type ConsoleEnv, timezoneOf } from "./deps.js";
import { fieldText, formOf } from "./form.js";
import { type ImportPreview, previewImport } from "./import-preview.js";
import { Action, Badge, Csrf, Notice, Page } from "./layout.js";
import { showTime } from "./time.js";

const pageSize = 50;
export const maxConsoleImportBytes = 5 * 1024 * 1024;

const notices: Record<string, string> = {
  added: "Reader added.",
  unsubscribed: "Reader unsubscribed.",
  erased: "Reader erased; only a hash of the address stays, on the suppression list.",
  imported: "Import finished.",
};

interface ListProps {
  session: Session;
  page: SubscriberPage;
  status?: string;
  q?: string;
  pageNo: number;
  timeZone: string;
  notice?: string;
  error?: string;
}

function SubscriberList(p: ListProps) {
  const { session } = p;
  const link = (n: number) =>
    `/admin/subscribers?${new URLSearchParams({ ...(p.status ? { status: p.status } : {}), ...(p.q ? { q: p.q } : {}), page: String(n) })}`;
  return (
    <Page title="Subscribers" session={session} section="subscribers">
      <div class="actions" style="justify-content:space-between;margin-bottom:16px">
        <h1 style="margin:0">Subscribers</h1>
        <a class="button secondary" href="/admin/subscribers/export">
          Export CSV
        </a>
      </div>
      {p.notice && <Notice kind="ok">{p.notice}</Notice>}
      {p.error && <Notice kind="bad">{p.error}</Notice>}
      <div class="card">
        <form method="get" action="/admin/subscribers" class="row">
          <div class="field">
            <label for="q">Search address or name</label>
            <input id="q" name="q" type="search" value={p.q ?? ""} />
          </div>
          <div class="field">
            <label for="status">Status</label>
            <select id="status" name="status">
              <option value="">any</option>
              {subscriberStatuses.map((s) => (
                <option value={s} selected={p.status === s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="secondary">
            Find
          </button>
        </form>
      </div>
      <div class="card">
        <h2>
          {p.page.total} reader{p.page.total === 1 ? "" : "s"}
        </h2>
        {p.page.subscribers.length === 0 ? (
          <p class="muted">Nobody matches.</p>
        ) : (
          <div class="scroll">
            <table class="stack-narrow">
              <thead>
                <tr>
                  <th>Address</th>
                  <th class="hide-narrow">Name</th>
                  <th>Status</th>
                  <th class="hide-narrow">Since</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {p.page.subscribers.map((s) => (
                  <tr>
                    <td>{s.email}</td>
                    <td class="hide-narrow">{s.name ?? ""}</td>
                    <td>
                      <Badge status={s.status} />
                    </td>
                    <td class="hide-narrow small">{showTime(s.createdAt, p.timeZone)}</td>
                    <td>
                      <div class="actions">
                        {s.status !== "unsubscribed" && (
                          <Action
                            session={session}
                            action="/admin/subscribers/unsubscribe"
                            label="Unsubscribe"
                            kind="secondary"
                            fields={{ email: s.email }}
                          />
                        )}
                        <Action
                          session={session}
                          action="/admin/subscribers/erase"
                          label="Erase…"
                          kind="danger"
                          fields={{ email: s.email }}
                        />
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div class="pager">
          {p.pageNo > 1 && <a href={link(p.pageNo - 1)}>← Previous</a>}
          <span class="muted small">Page {p.pageNo}</span>
          {p.page.nextOffset !== undefined && <a href={link(p.pageNo + 1)}>Next →</a>}
        </div>
      </div>
      <div class="grid">
        <div class="card">
          <h2>Add a reader</h2>
          <form method="post" action="/admin/subscribers">
            <Csrf session={session} />
            <div class="field">
              <label for="add-email">Email</label>
              <input id="add-email" name="email" type="email" required />
            </div>
            <div class="field">
              <label for="add-name">
                Name <span class="hint">(optional)</span>
              </label>
              <input id="add-name" name="name" type="text" />
            </div>
            <div class="field">
              <label>
                <input type="checkbox" name="confirmed" value="yes" /> Already confirmed{" "}
                <span class="hint">(no confirmation mail; only with their consent on record)</span>
              </label>
            </div>
            <button type="submit">Add</button>
          </form>
        </div>
        <div class="card">
          <h2>Import CSV</h2>
          <p class="muted small">
            Columns <code>email</code> and optional <code>name</code>. You see a preview and the validation
            result before anything is written.
          </p>
          <form method="post" action="/admin/subscribers/import" enctype="multipart/form-data">
            <Csrf session={session} />
            <div class="field">
              <label for="file">CSV file</label>
              <input id="file" name="file" type="file" accept=".csv,text/csv" required />
            </div>
            <button type="submit" class="secondary">
              Preview import
            </button>
          </form>
        </div>
      </div>
    </Page>
  );
}

function ImportPreviewPage({
  session,
  preview,
  csv,
}: {
  session: Session;
  preview: ImportPreview;
  csv: string;
}) {
  return (
    <Page title="Import preview" session={session} section="subscribers">
      <p class="muted small">
        <a href="/admin/subscribers">Subscribers</a> › Import
      </p>
      <h1>Check the import</h1>
      {preview.headerError ? (
        <Notice kind="bad">Nothing can be imported: {preview.headerError}.</Notice>
      ) : (
        <div class="card">
          <dl class="stats">
            <div>
              <dt>Rows</dt>
              <dd>{preview.total}</dd>
            </div>
            <div>
              <dt>Valid</dt>
              <dd>{preview.valid}</dd>
            </div>
            <div>
              <dt>Already known</dt>
              <dd>{preview.known}</dd>
            </div>
            <div>
              <dt>Invalid</dt>
              <dd>{preview.invalid}</dd>
            </div>
            <div>
              <dt>Repeated</dt>
              <dd>{preview.repeated}</dd>
            </div>
          </dl>
          <p class="muted small" style="margin-top:12px">
            Known, suppressed and repeated addresses are skipped and never changed; invalid rows are refused.
          </p>
        </div>
      )}
      <div class="card">
        <h2>First rows</h2>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Line</th>
                <th>Email</th>
                <th>Name</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {preview.rows.map((r) => (
                <tr>
                  <td>{r.line}</td>
                  <td>{r.email}</td>
                  <td>{r.name}</td>
                  <td class={r.ok ? undefined : "small"}>{r.ok ? <Badge status="active" /> : r.verdict}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {!preview.headerError && preview.invalid > 0 && (
        <Notice kind="bad">
          Nothing is imported while any row is invalid: fix the {preview.invalid} invalid{" "}
          {preview.invalid === 1 ? "row" : "rows"} above (or delete them) and upload the file again.
        </Notice>
      )}
      {!preview.headerError && preview.invalid === 0 && preview.valid > 0 && (
        <form method="post" action="/admin/subscribers/import/confirm" class="card">
          <Csrf session={session} />
          <textarea name="csv" hidden>
            {csv}
          </textarea>
          <div class="field">
            <label>
              <input type="checkbox" name="pending" value="yes" /> Send each new reader a confirmation mail{" "}
              <span class="hint">(they stay pending until they click)</span>
            </label>
          </div>
          <div class="actions">
            <button type="submit">
              Import {preview.valid - preview.known > 0 ? preview.valid - preview.known : preview.valid} new
              readers
            </button>
            <a href="/admin/subscribers">Cancel</a>
          </div>
        </form>
      )}
    </Page>
  );
}

function EraseConfirm({ session, email }: { session: Session; email: string }) {
  return (
    <Page title="Erase a reader" session={session} section="subscribers">
      <div class="card login">
        <h1>Erase {email}?</h1>
        <p>
          This deletes the reader and their bounce history for good (GDPR erasure). Only a hash of the address
          stays, on the suppression list, so it is never mailed again. It cannot be undone.
        </p>
        <div class="actions">
          <Action
            session={session}
            action="/admin/subscribers/erase"
            label="Yes, erase for good"
            kind="danger"
            fields={{ email, really: "yes" }}
          />
          <a href="/admin/subscribers">Keep them</a>
        </div>
      </div>
    </Page>
  );
}

/** Readers (admins only): browse, search, add, unsubscribe, erase, import, export. */
export function subscriberRoutes(deps: ConsoleDeps) {
  const app = new Hono<ConsoleEnv>();
  const tz = timezoneOf(deps);
  const form = formOf;
  const str = fieldText;

  async function list(c: ConsoleContext, extra: { error?: string } = {}) {
    const status = c.req.query("status") || undefined;
    const q = (c.req.query("q") ?? "").slice(0, 254) || undefined;
    const pageNo = Math.min(Math.max(Number.parseInt(c.req.query("page") ?? "1", 10) || 1, 1), 100_000);
    const page = await listSubscribers(deps.db, {
      status,
      search: q,
      limit: pageSize,
      offset: (pageNo - 1) * pageSize,
    });
    const notice = notices[c.req.query("done") ?? ""];
    return (
      <SubscriberList
        session={c.get("session")}
        page={page}
        status={status}
        q={q}
        pageNo={pageNo}
        timeZone={tz}
        notice={notice}
        {...extra}
      />
    );
  }

  app.get("/", async (c) => c.html(await list(c)));

  app.post("/", async (c) => {
    const fields = await form(c);
    try {
      const row = await addSubscriber(deps, {
        email: fields.email,
        name: fields.name,
        confirmed: str(fields.confirmed) === "yes",
      });
      await recordAudit(deps.db, actorOf(c.get("session")), "subscriber.add", row.email, {
        status: row.status,
      });
      return c.redirect(`/admin/subscribers?q=${encodeURIComponent(row.email)}&done=added`, 303);
    } catch (error) {
      if (error instanceof DigestError && (error.kind === "invalid" || error.kind === "conflict"))
        return c.html(await list(c, { error: error.message }), 422);
      throw error;
    }
  });

  app.post("/unsubscribe", async (c) => {
    const row = await findSubscriber(deps.db, str((await form(c)).email));
    if (!row) throw new HTTPException(404, { message: "no such reader" });
    await unsubscribe(deps, row.id);
    await recordAudit(deps.db, actorOf(c.get("session")), "subscriber.unsubscribe", row.email);
    return c.redirect(`/admin/subscribers?q=${encodeURIComponent(row.email)}&done=unsubscribed`, 303);
  });

  // Erasure asks twice: the first POST shows what will happen, the second (really=yes) does it.
  app.post("/erase", async (c) => {
    const fields = await form(c);
    let email: string;
    try {
      email = normaliseAddress(fields.email);
    } catch (error) {
      throw new DigestError("invalid", error instanceof Error ? error.message : "not an address");
    }
    if (str(fields.really) !== "yes")
      return c.html(<EraseConfirm session={c.get("session")} email={email} />);
    const id = await eraseReader(deps.db, email, actorOf(c.get("session")));
    // Their queued or failed mail jobs go too; the erasure stands even if Redis cannot answer.
    if (id && deps.forgetJobs) {
      await deps
        .forgetJobs(id)
        .catch((error: unknown) => deps.log.warn({ err: error }, "erased reader's mail jobs not removed"));
    }
    return c.redirect("/admin/subscribers?done=erased", 303);
  });

  app.post("/import", async (c) => {
    const file = (await form(c)).file;
    if (!(file instanceof File) || file.size === 0)
      return c.html(await list(c, { error: "Choose a CSV file to import." }), 422);
    if (file.size > maxConsoleImportBytes)
      return c.html(
        await list(c, {
          error: "The console imports files up to 5 MB; use digest subscribers import for more.",
        }),
        413,
      );
    const csv = await file.text();
    return c.html(
      <ImportPreviewPage session={c.get("session")} preview={await previewImport(deps.db, csv)} csv={csv} />,
    );
  });

  app.post("/import/confirm", async (c) => {
    const fields = await form(c);
    const csv = str(fields.csv);
    if (csv.trim() === "") throw new HTTPException(400, { message: "nothing to import" });
    const report = await importSubscribers(deps.db, Readable.from([csv]), {
      pending: str(fields.pending) === "yes",
      notify: deps.notify,
    });
    if (report.invalidRows > 0) {
      const first = report.errors[0];
      throw new HTTPException(422, {
        message: `nothing imported: ${report.invalidRows} invalid row(s)${first ? `, first at line ${first.line}: ${first.message}` : ""}`,
      });
    }
    await recordAudit(deps.db, actorOf(c.get("session")), "subscriber.import", undefined, {
      imported: report.imported,
      skipped: report.skipped,
      invalid: report.invalidRows,
    });
    return c.redirect("/admin/subscribers?done=imported", 303);
  });

  app.get("/export", async (c) => {
    await recordAudit(deps.db, actorOf(c.get("session")), "subscriber.export");
    c.header("Content-Type", "text/csv; charset=utf-8");
    c.header("Content-Disposition", 'attachment; filename="subscribers.csv"');
    return c.body(Readable.toWeb(exportSubscribers(deps.db)) as ReadableStream);
  });

  return app;
}
