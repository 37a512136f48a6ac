import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";
import { DigestError } from "./errors.js";
import { catalogueLanguages, isLanguage, type Language } from "./i18n/catalogue.js";

/**
 * The only reader of process.env. Each command asks for the settings it uses (`loadConfig([...])`),
 * so `digest render` never fails over a bad SEND_RATE, and every problem with the asked-for settings
 * is reported at once. Values come from the environment, then `.env` in the working directory.
 */

const port = z.coerce.number().int().min(1).max(65_535);
const positiveInt = z.coerce.number().int().positive();
/** A share of sent messages: above 0, at most 1 (0.003 is 0.3 %). */
const rate = z.coerce
  .number()
  .gt(0, "must be above 0 (e.g. 0.003 for 0.3 %)")
  .max(1, "must be at most 1 (a share of sent messages: 0.003 is 0.3 %)");
/** A comma-separated list, each entry trimmed, empty entries dropped. */
const commaList = z.string().transform((v) =>
  v
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== ""),
);
/** An on/off setting: true/false, yes/no, on/off or 1/0, in any case; anything else is refused. */
const flag = z
  .string()
  .regex(/^(?:true|false|yes|no|on|off|1|0)$/i, "true or false (yes/no, on/off and 1/0 work too)")
  .transform((v) => /^(?:true|yes|on|1)$/i.test(v));
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), "must start with http:// or https://")
  .transform((u) => u.replace(/\/+$/, ""));

/** arn:<partition>:sns:<region>:<12-digit account>:<topic name> (FIFO topics end in .fifo). */
const snsTopicArn =
  /^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;

/** The values `.env.example` ships with: a copied example is as public as no secret at all. */
export const exampleSecrets = [
  "change-me-to-a-long-random-string",
  "change-me-to-another-long-random-string",
] as const;

const secretValue = z
  .string()
  .min(32, "needs at least 32 characters (`digest init` writes a random one)")
  .refine(
    (v) => !/change-me/i.test(v) && !(exampleSecrets as readonly string[]).includes(v),
    "is the example value from .env.example: set your own (`digest init` writes a random one)",
  );

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * SMTP_URL query options (nodemailer's syntax) that would weaken TLS: skipping STARTTLS
 * (`ignoreTLS` with anything but false), any `tls.*` option (`tls.rejectUnauthorized=false` turns
 * certificate checks off), and `secure` or `requireTLS` with anything but true (`secure=false`
 * makes smtps:// plain; nodemailer reads an empty value as 0, so `secure=` is the same). The URL
 * may make TLS stricter, never looser: SMTP_TLS=insecure is the one way to loosen it.
 */
export function smtpUrlTlsOptions(url: string): string[] {
  // Read from the text itself, not through new URL(): nodemailer's older parser still reads the
  // query of a URL that WHATWG refuses (a port above 65535, say), and it must not go unchecked.
  const start = url.indexOf("?");
  const query = new URLSearchParams(start === -1 ? "" : (url.slice(start + 1).split("#")[0] ?? ""));
  const found: string[] = [];
  for (const [key, value] of query) {
    const off = /^(?:false|0|no)$/i.test(value);
    const on = /^(?:true|1|yes)$/i.test(value);
    if (
      (key === "ignoreTLS" && !off) ||
      key.startsWith("tls.") ||
      ((key === "secure" || key === "requireTLS") && !on)
    )
      found.push(`${key}=${value}`);
  }
  return found;
}

/**
 * One DNS_SERVERS entry as node's `Resolver.setServers` takes it: `ip`, `ip:port`, or `[ipv6]:port`
 * (a bare IPv6 address has colons of its own). Undefined when it is none of these.
 */
export function dnsServerEntry(entry: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  const [ip, portText] = bracketed
    ? [bracketed[1] ?? "", bracketed[2]]
    : isIP(entry) === 6
      ? [entry, undefined]
      : (entry.split(/:(?=\d{1,5}$)/) as [string, string | undefined]);
  if (isIP(ip) === 0 || (bracketed && isIP(ip) !== 6)) return undefined;
  if (portText !== undefined && (Number(portText) < 1 || Number(portText) > 65_535)) return undefined;
  if (portText === undefined) return ip;
  return isIP(ip) === 6 ? `[${ip}]:${portText}` : `${ip}:${portText}`;
}

/**
 * What is wrong with SMTP_CA_FILE, or undefined: it must be readable and hold PEM certificates
 * that each parse. Checked here, at start: a broken one would otherwise fail every TLS handshake.
 */
function caFileProblem(path: string): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): it must be a PEM file of CA certificates`;
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  const broken = blocks.findIndex((block) => {
    try {
      new X509Certificate(block);
      return false;
    } catch {
      return true;
    }
  });
  return broken === -1 ? undefined : `${path}: certificate ${broken + 1} of ${blocks.length} cannot be read`;
}

/** LANGUAGES: catalogue languages only, each once; the first is the default. */
const languageList = commaList
  .refine((list) => list.length > 0, "needs at least one language, such as en")
  .superRefine((list, ctx) => {
    const unknown = list.filter((entry) => !isLanguage(entry));
    if (unknown.length > 0)
      ctx.addIssue({
        code: "custom",
        message: `has no catalogue for ${unknown.join(", ")}: the languages available are ${catalogueLanguages.join(", ")} (comma-separated, the first is the default)`,
      });
    if (new Set(list).size !== list.length)
      ctx.addIssue({ code: "custom", message: "names a language twice" });
  })
  .transform((list) => list as [Language, ...Language[]]);

const fields = {
  databaseUrl: { env: "DATABASE_URL", schema: z.string().url().optional() },
  redisUrl: { env: "REDIS_URL", schema: z.string().url().optional() },
  queuePrefix: {
    env: "QUEUE_PREFIX",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, "letters, digits and _ . : - only")
      .default("digest"),
  },
  smtpUrl: {
    env: "SMTP_URL",
    schema: z
      .string()
      .regex(/^smtps?:\/\//, "must start with smtp:// or smtps://")
      .superRefine((url, ctx) => {
        const weakening = smtpUrlTlsOptions(url);
        if (weakening.length > 0)
          ctx.addIssue({
            code: "custom",
            message: `may not set ${weakening.join(", ")}: TLS is set with SMTP_TLS=insecure (no certificate check) or SMTP_CA_FILE (a private CA), never in the URL`,
          });
      }),
  },
  smtpCaFile: {
    env: "SMTP_CA_FILE",
    schema: z
      .string()
      .superRefine((path, ctx) => {
        const problem = caFileProblem(path);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
  },
  smtpTls: { env: "SMTP_TLS", schema: z.enum(["verify", "insecure"]).default("verify") },
  port: { env: "PORT", schema: port.default(3000) },
  publicUrl: { env: "PUBLIC_URL", schema: httpUrl.optional() },
  mailFrom: { env: "MAIL_FROM", schema: z.string().min(3).optional() },
  mailDomain: {
    env: "MAIL_DOMAIN",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, "a domain name")
      .transform((d) => d.toLowerCase())
      .optional(),
  },
  adminToken: { env: "ADMIN_TOKEN", schema: secretValue.optional() },
  secret: { env: "SECRET", schema: secretValue },
  sendRate: { env: "SEND_RATE", schema: positiveInt.default(50) },
  smtpPool: { env: "SMTP_POOL", schema: positiveInt.default(5) },
  softBounceLimit: { env: "SOFT_BOUNCE_LIMIT", schema: positiveInt.default(3) },
  complaintPauseRate: { env: "COMPLAINT_PAUSE_RATE", schema: rate.default(0.003) },
  bouncePauseRate: { env: "BOUNCE_PAUSE_RATE", schema: rate.default(0.05) },
  inboundSmtpPort: { env: "INBOUND_SMTP_PORT", schema: port.default(2525) },
  leaseSeconds: { env: "LEASE_SECONDS", schema: z.coerce.number().positive().default(120) },
  smtpTimeoutSeconds: { env: "SMTP_TIMEOUT_SECONDS", schema: z.coerce.number().positive().default(60) },
  reconcileSeconds: { env: "RECONCILE_SECONDS", schema: z.coerce.number().positive().default(60) },
  stallSeconds: { env: "STALL_SECONDS", schema: z.coerce.number().positive().default(30) },
  retryBaseSeconds: { env: "RETRY_BASE_SECONDS", schema: z.coerce.number().positive().default(60) },
  deferHorizonSeconds: { env: "DEFER_HORIZON_SECONDS", schema: z.coerce.number().positive().default(86_400) },
  sendBatchSize: { env: "SEND_BATCH_SIZE", schema: positiveInt.max(5_000).default(250) },
  dkimDomain: { env: "DKIM_DOMAIN", schema: z.string().optional() },
  dkimSelector: { env: "DKIM_SELECTOR", schema: z.string().optional() },
  dkimPrivateKeyFile: { env: "DKIM_PRIVATE_KEY_FILE", schema: z.string().optional() },
  dkimEd25519KeyFile: { env: "DKIM_ED25519_KEY_FILE", schema: z.string().optional() },
  newsletterFile: { env: "NEWSLETTER_FILE", schema: z.string().default("newsletter.yaml") },
  timezone: {
    env: "TIMEZONE",
    schema: z.string().refine(isTimeZone, "an IANA time zone name such as America/New_York").default("UTC"),
  },
  trustedProxies: {
    env: "TRUSTED_PROXIES",
    schema: commaList.optional(),
  },
  dnsServers: {
    env: "DNS_SERVERS",
    schema: commaList
      .refine((servers) => servers.length > 0, "needs at least one server")
      .refine(
        (servers) => servers.every((s) => dnsServerEntry(s) !== undefined),
        "comma-separated IP addresses with an optional port, such as 9.9.9.9,127.0.0.1:5353,[::1]:53",
      )
      .transform((servers) => servers.map((s) => dnsServerEntry(s) ?? s))
      .optional(),
  },
  metricsToken: { env: "METRICS_TOKEN", schema: z.string().min(16, "at least 16 characters").optional() },
  inboundTlsCertFile: { env: "INBOUND_TLS_CERT_FILE", schema: z.string().optional() },
  inboundTlsKeyFile: { env: "INBOUND_TLS_KEY_FILE", schema: z.string().optional() },
  bounceImapUrl: {
    env: "BOUNCE_IMAP_URL",
    schema: z
      .string()
      .regex(/^imaps?:\/\//, "must start with imaps:// or imap://")
      .optional(),
  },
  snsCertFile: { env: "SNS_CERT_FILE", schema: z.string().optional() },
  snsTopicArns: {
    env: "SNS_TOPIC_ARNS",
    schema: commaList
      .refine((arns) => arns.length > 0, "needs at least one topic ARN")
      .refine(
        (arns) => arns.every((a) => snsTopicArn.test(a)),
        "comma-separated SNS topic ARNs such as arn:aws:sns:eu-west-1:123456789012:ses-bounces",
      )
      .optional(),
  },
  webhookPostmarkAuth: {
    env: "WEBHOOK_POSTMARK_AUTH",
    schema: z
      .string()
      .regex(/^[^:]+:.+$/, "user:password")
      .optional(),
  },
  webhookMailgunSigningKey: { env: "WEBHOOK_MAILGUN_SIGNING_KEY", schema: z.string().min(8).optional() },
  webhookSendgridPublicKey: { env: "WEBHOOK_SENDGRID_PUBLIC_KEY", schema: z.string().min(16).optional() },
  // Readership tracking (README, "Readership tracking"): off unless the install opts in.
  trackClicks: { env: "TRACK_CLICKS", schema: flag.default(false) },
  trackOpens: { env: "TRACK_OPENS", schema: flag.default(false) },
  trackingRetentionDays: { env: "TRACKING_RETENTION_DAYS", schema: positiveInt.default(90) },
  languages: { env: "LANGUAGES", schema: languageList.default(["en"]) },
  logLevel: {
    env: "LOG_LEVEL",
    schema: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  },
} as const;

type Fields = typeof fields;
export type SettingName = keyof Fields;
export type Config<K extends SettingName = SettingName> = { [P in K]: z.output<Fields[P]["schema"]> };
export type Env = Record<string, string | undefined>;

export class ConfigError extends DigestError {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super("invalid", `configuration:\n  ${problems.join("\n  ")}`);
  }
}

/** The process environment over `.env` in the working directory (the environment wins). */
export function environment(cwd = process.cwd()): Env {
  const file = resolve(cwd, ".env");
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}

export function loadConfig<K extends SettingName>(keys: readonly K[], env: Env = environment()): Config<K> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const field = fields[key];
    const raw = env[field.env];
    const result = field.schema.safeParse(raw === "" ? undefined : raw);
    if (result.success) out[key] = result.data;
    else {
      const why =
        raw === undefined || raw === ""
          ? "is required"
          : result.error.issues.map((i) => i.message).join("; ");
      problems.push(`${field.env} ${why}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as Config<K>;
}

/** Where the embedded database lives when DATABASE_URL is unset. */
export const embeddedDataDir = (cwd = process.cwd()) => resolve(cwd, ".data", "pg");

/** A URL's hostname that only this machine can reach. */
export const isLoopbackHostname = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127\./.test(hostname);

/**
 * PUBLIC_URL defaults to http://localhost:$PORT. Plain http is allowed only on loopback; the
 * returned warning is for the caller to log.
 */
export function resolvePublicUrl(cfg: Config<"publicUrl" | "port">): { url: string; warning?: string } {
  const url = cfg.publicUrl ?? `http://localhost:${cfg.port}`;
  const { protocol, hostname } = new URL(url);
  if (protocol === "http:" && !isLoopbackHostname(hostname)) {
    throw new ConfigError([`PUBLIC_URL must use https:// unless it is a loopback address (got ${url})`]);
  }
  return protocol === "http:"
    ? { url, warning: `PUBLIC_URL ${url} is plain http: fine on this machine, not for real readers` }
    : { url };
}
