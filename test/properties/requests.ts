import fc from "fast-check";
import { type SubscriberPurpose, signSubscriberToken } from "../../src/subscribers/tokens.js";
import { hostileAddress, hostileText } from "./arbitraries.js";

/**
 * Generated malformed HTTP requests for the fuzz suite: every route, odd methods and paths, wrong
 * content types, broken bodies, huge headers, and tokens that are random, tampered, of the wrong
 * purpose, or valid for readers the suite created (so the happy paths that send mail are hit too).
 */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface FuzzContext {
  secret: string;
  adminToken: string;
  /** Subscriber ids the suite created, for valid tokens. */
  readers: string[];
  /** A stored issue's id, for the send routes. */
  issueId: string;
  /** A signed-in console session, so generated /admin requests reach the handlers too. */
  console?: { cookie: string; csrf: string };
}

const purposes: SubscriberPurpose[] = ["confirm", "unsubscribe", "manage"];

export function tokenArbitrary(ctx: FuzzContext, purpose: SubscriberPurpose): fc.Arbitrary<string> {
  const valid = (p: SubscriberPurpose) =>
    fc.constantFrom(...ctx.readers).map((id) => signSubscriberToken(ctx.secret, p, id));
  return fc.oneof(
    { weight: 3, arbitrary: valid(purpose) },
    { weight: 1, arbitrary: fc.constantFrom(...purposes).chain((p) => valid(p)) },
    {
      weight: 2,
      arbitrary: fc.tuple(valid(purpose), fc.nat(), fc.constantFrom(..."a7z2_-=%.")).map(([t, at, c]) => {
        const i = at % t.length;
        return t.slice(0, i) + c + t.slice(i + 1);
      }),
    },
    { weight: 1, arbitrary: valid(purpose).map((t) => t.toUpperCase()) },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z2-7]{1,90}$/) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom("%", "%zz", "%00", "%0d%0a", "..%2f..%2fetc", "x".repeat(5000)) },
  );
}

const contentTypes = [
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=iso-8859-1",
  "multipart/form-data; boundary=fuzzboundary",
  "multipart/form-data",
  "text/csv",
  "text/markdown",
  "text/plain",
  "application/xml",
  "application/octet-stream",
  "json",
  ";;;",
];

const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      email: fc.oneof(hostileAddress, fc.jsonValue({ maxDepth: 1 })),
      name: fc.oneof(hostileText, fc.jsonValue({ maxDepth: 1 })),
      website: fc.constantFrom("", "http://bot.example"),
      action: fc.constantFrom("name", "unsubscribe", "resubscribe", "delete", ""),
      confirmed: fc.constantFrom(true, "true", "1", "no", 7),
      test: fc.array(hostileAddress, { maxLength: 4 }),
      at: fc.constantFrom("2030-01-01T00:00:00Z", "tomorrow", "2020-13-45T99:00:00Z"),
      again: fc.boolean(),
      markdown: hostileText,
    },
    { requiredKeys: [] },
  ),
);

const formBody = fc
  .record(
    {
      email: hostileAddress,
      name: hostileText,
      website: fc.constantFrom("", "x"),
      action: fc.constantFrom("name", "unsubscribe", "resubscribe", "evil"),
    },
    { requiredKeys: [] },
  )
  .map((r) => new URLSearchParams(r as Record<string, string>).toString());

const multipartBody = fc
  .tuple(hostileAddress, hostileText, fc.boolean())
  .map(([email, name, asFile]) =>
    [
      "--fuzzboundary",
      `Content-Disposition: form-data; name="email"${asFile ? '; filename="x.txt"' : ""}`,
      "",
      email,
      "--fuzzboundary",
      'Content-Disposition: form-data; name="name"',
      "",
      name,
      "--fuzzboundary--",
      "",
    ].join("\r\n"),
  );

const body = fc.oneof(
  { weight: 3, arbitrary: jsonValue.map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: formBody },
  { weight: 1, arbitrary: multipartBody },
  { weight: 1, arbitrary: fc.constantFrom('{"email": ', "{", "[]", "null", '"x"', "{}}", "\u0000\u0001") },
  { weight: 1, arbitrary: fc.string({ maxLength: 300, unit: "binary" }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.tuple(hostileAddress, hostileText), { maxLength: 5 })
      .map((rows) => `email,name\n${rows.map(([e, n]) => `"${e.replace(/"/g, '""')}","${n}"`).join("\n")}`),
  },
  { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(70_000), `email=${"a".repeat(300)}@example.org`) },
);

const oddSegment = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom(
    "%",
    "%G0",
    "%00",
    "%E0%A4%A",
    "..",
    "%2e%2e",
    ";",
    "?",
    "#",
    "\u202e",
    "دخول",
    "🎉",
    "a".repeat(3000),
  ),
);

export function requestArbitrary(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constant("/subscribe") },
    { weight: 3, arbitrary: tokenArbitrary(ctx, "confirm").map((t) => `/confirm/${t}`) },
    { weight: 3, arbitrary: tokenArbitrary(ctx, "unsubscribe").map((t) => `/unsubscribe/${t}`) },
    { weight: 3, arbitrary: tokenArbitrary(ctx, "manage").map((t) => `/manage/${t}`) },
    { weight: 1, arbitrary: oddSegment.map((s) => `/archive/${s}`) },
    // Archive search: any text, syntax characters and broken escapes in the query.
    { weight: 1, arbitrary: oddSegment.map((s) => `/archive?q=${s}`) },
    { weight: 1, arbitrary: fc.constantFrom("/", "/feed.xml", "/healthz", "/metrics", "/archive/vol-2-6") },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "/api/subscribers",
        "/api/subscribers?limit=0",
        "/api/subscribers?limit=abc&offset=-1&status=%00",
        `/api/subscribers?q=${"%25".repeat(300)}`,
        "/api/subscribers/import",
        "/api/subscribers/export",
        "/api/issues",
        `/api/issues/${ctx.issueId}/preview`,
        `/api/issues/${ctx.issueId}/sends`,
        "/api/issues/not-a-uuid/sends",
        "/api/sends/00000000-0000-0000-0000-000000000000",
        "/api/sends/x/pause",
        "/api/sends/x/explode",
      ),
    },
    { weight: 2, arbitrary: fc.constant(`/api/issues/${ctx.issueId}/sends`) },
    { weight: 3, arbitrary: adminPath(ctx) },
    { weight: 1, arbitrary: oddSegment.map((s) => `/api/subscribers/${s}`) },
    { weight: 1, arbitrary: oddSegment.map((s) => `/api/subscribers/${s}/unsuppress`) },
    {
      weight: 1,
      arbitrary: fc.array(oddSegment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`),
    },
  );
  const auth = fc.oneof(
    fc.constant(undefined),
    fc.constant(`Bearer ${ctx.adminToken}`),
    fc.constantFrom(
      "Bearer",
      "Bearer ",
      "Basic YTpi",
      `bearer ${ctx.adminToken}`,
      `Bearer ${"x".repeat(9000)}`,
    ),
  );
  return fc
    .record({
      method: fc.constantFrom("GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"),
      path,
      contentType: fc.option(fc.constantFrom(...contentTypes), { nil: undefined }),
      auth,
      accept: fc.constantFrom(undefined, "application/json", "text/html", "*/*"),
      huge: fc.constantFrom(undefined, undefined, undefined, "x".repeat(64 * 1024), "é".repeat(20_000)),
      body,
      session: fc.constantFrom("none", "cookie", "csrf", "csrf", "stale"),
      // Half the requests to the send route are well-formed test sends to hostile addresses.
      testSend: fc.option(fc.array(hostileAddress, { minLength: 1, maxLength: 4 }), { nil: undefined }),
    })
    .map((r) => {
      if (r.testSend && r.path.endsWith("/sends")) {
        const headers = { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" };
        return { method: "POST", path: r.path, headers, body: JSON.stringify({ test: r.testSend }) };
      }
      const headers: Record<string, string> = {};
      if (r.contentType) headers["content-type"] = r.contentType;
      if (ctx.console && r.session !== "none" && r.path.startsWith("/admin")) {
        headers.cookie = r.session === "stale" ? "digest_session=x" : ctx.console.cookie;
        if (r.session === "csrf") headers["x-csrf-token"] = ctx.console.csrf;
      }
      if (r.auth) headers.authorization = r.auth;
      if (r.accept) headers.accept = r.accept;
      if (r.huge) headers["x-huge"] = r.huge;
      const hasBody = r.method !== "GET" && r.method !== "HEAD";
      return { method: r.method, path: r.path, headers, ...(hasBody ? { body: r.body } : {}) };
    });
}

/** Console routes (SPEC §4 staff console), with odd ids, queries and segments. */
function adminPath(ctx: FuzzContext): fc.Arbitrary<string> {
  const zero = "00000000-0000-4000-8000-000000000000";
  return fc.oneof(
    fc.constantFrom(
      "/admin",
      "/admin/login",
      "/admin/login?next=//evil.example",
      "/admin/issues",
      "/admin/issues/new",
      "/admin/issues/new?from=last",
      `/admin/issues/new?from=${"%00".repeat(3)}`,
      "/admin/issues/preview",
      `/admin/issues/${ctx.issueId}`,
      `/admin/issues/${ctx.issueId}/preview.html`,
      `/admin/issues/${ctx.issueId}/issue.pdf`,
      `/admin/issues/${ctx.issueId}/test`,
      `/admin/issues/${ctx.issueId}/send`,
      `/admin/sends/${zero}`,
      `/admin/sends/${zero}/events`,
      `/admin/sends/${zero}/live`,
      `/admin/sends/${zero}/pause`,
      `/admin/sends/${zero}/move`,
      "/admin/sends/not-an-id/retry",
      "/admin/subscribers",
      "/admin/subscribers?status=%00&q=%25&page=-1",
      "/admin/subscribers?status=active&page=99999999999",
      "/admin/subscribers/unsubscribe",
      "/admin/subscribers/erase",
      "/admin/subscribers/import",
      "/admin/subscribers/import/confirm",
      "/admin/bounces",
      "/admin/audit",
      "/admin/staff",
      "/admin/staff/role",
      "/admin/staff/remove",
      "/admin/account",
      "/admin/account/password",
      "/admin/queues",
      "/admin/queues/api/queues",
      "/admin/static/console.css",
      "/admin/static/noto-sans-jp-400.ttf",
    ),
    oddSegment.map((s) => `/admin/setup/${s}`),
    oddSegment.map((s) => `/admin/issues/${s}`),
    oddSegment.map((s) => `/admin/sends/${s}/events`),
    oddSegment.map((s) => `/admin/${s}`),
  );
}
