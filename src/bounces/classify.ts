/**
 * Classifies one failure by its reason, reading the enhanced status code and the server's words
 * together. Suppressing a reader wrongly is the worst error, so only "this address or domain does
 * not exist" kinds are hard; everything else, and anything in doubt, is soft.
 */

export type FailureClass = { type: "hard" | "soft"; reason: string };

export interface ClassifyInput {
  status?: string;
  replyCode?: string | number;
  diagnostic: string;
  /** The SMTP command the answer replied to ("RCPT TO", "DATA"), when the caller knows it. */
  command?: string;
  /** The report says the sending server gave up (RFC 3464 `Action: failed`), whatever the code. */
  final?: boolean;
}

type Rule = readonly [reason: string, pattern: RegExp];

// Soft reasons strong enough to beat "unknown" wording in the same answer: a full mailbox exists.
export const FULL: RegExp =
  /mailbox (?:is )?full|mailbox (?:size|storage) limit|over ?quota|quota (?:exceeded|exceed|full)|exceeded? (?:the |his |her |their )?(?:storage|quota|mailbox)|insufficient (?:disk |storage )?space|not enough (?:disk |storage )?space|disk (?:is )?full|storage (?:space )?(?:full|limit)|postfach voll|boîte (?:aux lettres )?pleine|buzón lleno|casella piena/i;

// A local delivery agent that could not write a mailbox that exists (procmail's "Couldn't create",
// sendmail's "Can't create output", Sisimai's systemerror list): the receiving system's fault, and
// a local "User unknown" beside it is the agent's exit status, not the directory's answer.
export const LOCAL_DELIVERY_FAILED: RegExp =
  /procmail: (?:couldn'?t|unable to) create|can'?t create (?:user )?output|couldn'?t create (?:the )?(?:mailbox|mail ?file|lock ?file)/i;

// Rejections about *us* (our sender address, our host, our DNS): "unknown" there says nothing about
// the reader's address, so such answers never count as hard.
const ABOUT_US: RegExp =
  /sender address rejected|sender (?:domain|address) (?:is )?(?:rejected|unknown|invalid|not found|does not exist)|sender verif(?:y|ication) failed|unknown sender|client host rejected|helo command rejected|(?:helo|ehlo)[^\n.]{0,40}(?:invalid|unknown|not found)|cannot find your (?:host|hostname|reverse)|(?:reverse|rdns|ptr)[^\n.]{0,40}(?:fail|not found|unknown|missing|lookup)|your (?:ip|host|hostname|domain|server|address)[^\n.]{0,60}(?:not found|unknown|invalid|does not exist)|from address[^\n.]{0,20}(?:invalid|unknown)|envelope sender|mail from[^\n.]{0,40}(?:rejected|unknown|invalid|not exist)/i;

// The reader's mailbox does not exist. Several languages, because real traffic brings them.
const USER_UNKNOWN: RegExp = new RegExp(
  [
    String.raw`\b(?:user|recipient|addressee|mailbox|account|address|e-?mail address|local[- ]?part|username|destination mailbox)s?\s+(?:is\s+)?(?:unknown|not known|not found|invalid)\b`,
    String.raw`\b(?:unknown|invalid|non-?existent|nonexisting|no such)\s+(?:local\s+)?(?:user|recipient|mailbox|address|account|local[- ]?part|addressee|e-?mail address|person)`,
    String.raw`\b(?:user|recipient|addressee|mailbox|account|address|e-?mail)\b[^\n.;]{0,60}?\b(?:does ?n[o']?t exist|doesn't exist|do not exist|not exist|no longer exists?|was not found|could ?n[o']?t be found|couldn't be found|is not valid|not a valid|is not a known|isn't valid)`,
    String.raw`no mailbox (?:here )?by that name|mailbox unknown|bad destination mailbox|not our customer|not listed in (?:domino directory|public name & address book|the directory)`,
    "not a valid (?:recipient|mailbox|user)|unknown or illegal (?:alias|user)",
    // iCloud's answer for an address no longer in use (Sisimai's Apple list: userunknown).
    "inactive e-?mail address",
    "recipnotfound|recipientnotfound|invalid[- ]?recipient|unknown[- ]?recipient|user[- ]?unknown|no[- ]such[- ]user|mailbox[- ]?not[- ]?found|user[- ]?not[- ]?found|recipient[- ]?not[- ]?found",
    "benutzer unbekannt|empfänger unbekannt|adresse unbekannt|unbekannte[rs]? (?:empfänger|benutzer|adresse)|existiert nicht|utilisateur inconnu|destinataire inconnu|adresse inconnue|n'existe pas|usuario desconocido|destinatario desconocido|no existe|utente sconosciuto|destinatario sconosciuto|non esiste|usuário desconhecido|não existe|gebruiker onbekend|bestaat niet|не существует|не найден|неизвестн|nie istnieje|nieznany (?:użytkownik|adres)",
    // Invalid or missing mailboxes, in the words of German, French, Spanish, Italian, Portuguese
    // and Dutch servers.
    "ungültiger? (?:empfänger|empfängeradresse|adresse|postfach)|(?:postfach|empfänger|benutzer) (?:nicht gefunden|unbekannt)|kein(?:e|en)? (?:solche[rns]? )?(?:postfach|benutzer|empfänger)",
    "destinataire (?:invalide|inexistant|introuvable)|adresse (?:destinataire )?(?:invalide|inexistante)|bo[iî]te (?:aux lettres |mail )?(?:inexistante|inconnue)|utilisateur (?:inexistant|introuvable)|compte inexistant",
    "(?:usuario|destinatario|buzón|cuenta|dirección) (?:inexistente|no encontrad[oa]|no válid[oa])|no se (?:encontró|encuentra) el (?:usuario|destinatario|buzón)",
    "(?:utente|destinatario|casella|indirizzo) (?:inesistente|non trovat[oa]|non valid[oa])",
    "(?:usuário|utilizador|destinatário|conta|endereço|caixa postal) (?:inexistente|desconhecid[oa]|inválid[oa]|não encontrad[oa])|onbekende (?:gebruiker|ontvanger|geadresseerde)",
    // More servers' own wording, taken from Sisimai's userunknown list (reason/why-userunknown.go,
    // Copyright (C) 2024-2025 azumakuniyuki and sisimai development team, BSD 2-Clause License; see
    // README "Third-party material"): still hard only when the stage or a code confirms it.
    "address not present in directory|can't accept user|destination addresses were unknown|is not an active address at this host|mailbox not present|no account by that name|no mail ?box available for this user|no such (?:address|person) (?:here|at this address)|not a local address|recipient is not local|badrcptto|badrecipientto|not in my validrcptto|there is no one at this address|this address no longer accepts mail|the user's email name is not found|user missing home directory|invalid or unknown virtual user|nessun utente simile|no existe (?:dicha persona|ese usuario)",
    // Russian, Turkish, Japanese, Chinese and Korean servers.
    "нет такого (?:пользователя|адресата|ящика)|kullanıcı bulunamadı|bilinmeyen (?:kullanıcı|alıcı)",
    "存在しない|存在しません|宛先不明|ユーザー?不明|(?:ユーザー?|アカウント|メールアドレス|宛先)(?:が|は)(?:見つかりません|存在しません)|該当(?:する)?(?:ユーザー?|アドレス)(?:が|は)?(?:ありません|いません)",
    "用[户戶]不存在|收件人(?:地址)?不存在|[邮郵信]箱(?:地址)?不存在|[帐账帳][户号戶號]不存在|地址不存在|[无無]此用[户戶]|查[无無]此人|존재하지 않는 (?:사용자|계정|주소|메일)",
  ].join("|"),
  "i",
);

// A server stating the domain or host does not exist ("Host unknown", "Unrouteable address").
const HOST_UNKNOWN: RegExp =
  /(?:the |recipient(?:'s)? )domain is not reachable|illegal host|couldn't find (?:a |any )?(?:mail exchanger|host)|could not find (?:a |any )?(?:mail exchanger|host)|host unknown|unknown host|no such domain|domain (?:does ?n[o']?t|doesn't) exist|unrouteable (?:mail )?domain|unrouteable address|(?:recipient )?domain must exist|mail domain mentioned in email address is unknown|domínio inexistente|dominio inexistente|domaine inexistant|domain existiert nicht/i;

// A domain named as not existing: Exim's "Domain example.org does not exist", or a bare
// "example.org does not exist" (a name, not an address: "x@example.org does not exist" is a mailbox).
// Only the answer to a recipient can be about the reader's domain; see aboutUs for MAIL FROM.
const DOMAIN_NAMED_GONE: RegExp =
  /\bdomain\s+<?[a-z0-9][a-z0-9.-]*\.[a-z]{2,}>?\s+does ?n[o']?t exist|(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\.?\s+does ?n[o']?t exist/i;

// cPanel's Exim words for an address its router could not resolve ("The account or domain may not
// exist, they may be blacklisted, or missing the proper dns entries"), said only for permanent
// failures. It names the account too, so it is read before the unknown-user words would take it.
const ACCOUNT_OR_DOMAIN: RegExp = /\baccount or domain may not exist\b/i;

// A resolver's answer quoted by the sending MTA. The same words come with 4.x.x when the lookup
// may be retried (Gmail's "4.0.0 ... NXDOMAIN"), so they are never hard beside a temporary code.
const DNS_NOT_FOUND: RegExp =
  /host (?:or domain name )?not found|host \S+ not found|domain (?:name )?not found|nxdomain|no mx (?:record|host)|no mx found|mx (?:record )?not found|dns error: domain|domain name (?:does not exist|not found)/i;

// The lookup itself failed (no answer, a broken answer): says nothing about the domain existing.
const DNS_FAILED: RegExp =
  /try again|temporar|malformed|unexpected name server reply|servfail|server failure|timed? ?out|time-?out|refused/i;

// Microsoft 365 directory-based edge blocking (550 5.4.1) and Postfix's recipient access(5) table
// (554 5.7.1) answer RCPT for an address the directory does not list with these words.
const RECIPIENT_ACCESS_DENIED: RegExp = /recipient address rejected: access denied/i;

// A gateway's own verdict that the address is wrong (Trend Micro InterScan: "Please check if
// address is correct"); like IMail's below, hard only with a permanent code or with none at all.
const CHECK_ADDRESS: RegExp =
  /please (?:check|verify) (?:if|that|whether) (?:the )?(?:e-?mail |recipient )?address is correct/i;

// IMail's "Invalid final delivery userid"; hard only with a permanent code, like any mailbox answer.
const INVALID_USERID: RegExp = /invalid (?:final delivery )?userid/i;

// "No valid recipients" only says every RCPT failed. Postfix answers DATA with "554 5.5.1 Error: no
// valid recipients" whatever the reason was, so it needs the RCPT command or an X.1.x code, unless
// the notice quotes no SMTP answer at all: then it is a gateway's own verdict on the address (an
// MMS gateway's "No valid recipients for this MM"), not an echo of a refused DATA.
const NO_VALID_RECIPIENTS: RegExp = /\bno valid recipients?\b/i;

// Yahoo checks mailboxes only after DATA and says so in these words: a directory's answer that
// the account does not exist, not a content filter's, so it is hard at DATA too.
const NO_ACCOUNT: RegExp = /user doesn't have an? \S+ account/i;

// Directory answers that only a missing mailbox produces; they stand without a code or command.
// "unknown user: <name>" is how local delivery agents (mail.local, Postfix local(8), IMail) name
// the user they could not find; "This user doesn't have a <domain> account" is Yahoo's; "No such
// user" is how recipient-checking gateways (MessageLabs' address list) and mail stores answer an
// address they do not hold, quoted with no more than a catch-all 5.0.0 around it.
const USER_UNKNOWN_STRONG: RegExp = new RegExp(
  String.raw`\bno such user\b|recipient (?:name|address) (?:is )?not recognized|${NO_ACCOUNT.source}|not listed in (?:the )?(?:domino directory|public name & address book|directory)|address couldn't be found|address could not be found|(?:wasn't|was not) found at|invalid recipient|no mailbox (?:here )?by that name|unknown user: ?["<]?[^\s<>"@]+(?:[@"> ]|$)`,
  "i",
);

// Weaker domain wording ("Invalid domain"): hard only when a code or the RCPT command confirms it.
const BAD_DOMAIN: RegExp =
  /invalid (?:recipient )?domain|unknown (?:recipient )?domain|domain (?:is )?(?:not valid|invalid)|domaine (?:inconnu|introuvable|invalide)|(?:unbekannte|ungültige) domain|domain (?:unbekannt|nicht gefunden)|dominio (?:no existe|non esiste|desconocido|sconosciuto|no válido|non valido)|domínio (?:não existe|desconhecido|inválido)|домен не (?:существует|найден)|域名不存在|ドメインが(?:存在しません|見つかりません)|存在しないドメイン/i;

// RFC 5321's own words for 550 ("Requested action not taken: mailbox unavailable") and a bare
// "(Recipient) address rejected." with no reason after it refuse the address itself. They may also
// cover a policy refusal, so they count as hard only when nothing else is said: no soft words, a
// 550/553 reply, not after DATA, and no enhanced code naming another cause.
const ADDRESS_REFUSED: RegExp =
  /\bmailbox (?:is )?(?:unavailable|not available)\b|\baddress rejected(?:\s*<?[^\s<>@]+@[^\s<>]+?>?)?\s*(?:[.(]|$)/i;

const MOVED: RegExp =
  /\bhas moved\b|\bno longer (?:at this address|valid|with us)|\bmoved (?:permanently )?to\b/i;

// RFC 7505 null MX and "this domain takes no mail": the address can never work.
const NOT_ACCEPT: RegExp =
  /does ?n[o']?t accept (?:any )?mail|not accepting (?:any |network )?(?:mail|messages)|null mx|accepts no mail|indicated no smtp service|no smtp service/i;

const SOFT_RULES: readonly Rule[] = [
  [
    "message_too_big",
    /message (?:size )?(?:is )?too (?:big|large)|exceeds? (?:the )?(?:maximum )?(?:message )?size|size limit|message length exceeds/i,
  ],
  ["greylisted", /gr[ae]ylist/i],
  [
    "rate_limit",
    /rate limit|too many (?:messages|connections|recipients|emails)|throttl|sending limit|exceeded the (?:rate|limit)|try (?:again )?later|speed/i,
  ],
  ["virus", /virus|malware|infected/i],
  ["spam_block", /spam|junk|unsolicited|bulk mail/i],
  ["auth", /dmarc|\bspf\b|dkim|authenticat|\bptr\b|reverse dns|rdns/i],
  [
    "blocked",
    /block|blacklist|black list|denylist|\brbl\b|dnsbl|spamhaus|reputation|listed (?:at|on|in)\b|banned|not allowed|refused|rejected by (?:policy|the recipient)/i,
  ],
  [
    "relay_denied",
    /relay(?:ing)? (?:access )?(?:denied|not permitted|not allowed|prohibited)|not permitted to relay|do not relay|unable to relay|relay not permitted/i,
  ],
  ["content", /content|attachment|prohibited|not compliant|rfc ?5322|rfc ?2822|syntax/i],
  ["mailbox_disabled", /suspend|disabled|inactive|deactivated|locked|frozen|on hold|closed/i],
  [
    "expired",
    /expired|timed? ?out|time-?out|retry (?:time|timeout)|too long|could not be delivered within|giving up|delivery time/i,
  ],
  ["network", /connection (?:refused|reset|lost|closed)|network|no route|unreachable|tls|starttls|ssl/i],
  ["policy", /policy|not authorized|unauthori[sz]ed|permission|access denied|denied|administrative/i],
  [
    "system",
    /system (?:error|full)|internal error|local error|resources|out of memory|i\/o error|mailer error/i,
  ],
];

// What a hard-looking answer is called when a 4xx code makes it temporary.
const TRANSIENT_REASON: Record<string, string> = {
  mailbox_unknown: "user_unknown",
  invalid_userid: "user_unknown",
  check_address: "user_unknown",
  no_valid_recipients: "user_unknown",
  access_denied: "policy",
  dns_not_found: "host_unknown",
};

// RFC 3463 subjects that name a missing mailbox or system; every other code is soft.
const HARD_CODES: Record<string, string> = {
  "5.1.1": "user_unknown",
  "5.1.2": "host_unknown",
  "5.1.6": "has_moved",
  "5.1.10": "not_accept",
};

// Codes that confirm "unknown user" wording is about the mailbox (RFC 3463 X.1.x address status).
const ADDRESS_CODES = /^5\.1\.(?:0|1|2|3|6|10)$/;

const CODE_REASONS: readonly [RegExp, string][] = [
  [/^\d\.2\.2$/, "mailbox_full"],
  [/^\d\.2\.3$/, "message_too_big"],
  [/^\d\.3\.4$/, "message_too_big"],
  [/^\d\.2\.1$/, "mailbox_disabled"],
  [/^\d\.4\.7$/, "expired"],
  [/^\d\.7\.(?:2[3-9]|1[3-9])$/, "auth"],
  [/^\d\.7\.\d+$/, "policy"],
  [/^\d\.4\.\d+$/, "network"],
  [/^\d\.5\.\d+$/, "protocol"],
  [/^\d\.6\.\d+$/, "content"],
  [/^\d\.3\.\d+$/, "system"],
];

/** Every RFC 3463 enhanced status code in the text, in order. */
export function enhancedCodes(text: string): string[] {
  return [...text.matchAll(/(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)/g)].map(
    (m) => `${m[1]}.${Number(m[2])}.${Number(m[3])}`,
  );
}

/** The first SMTP reply code (e.g. "550") in the text. */
export function replyCodeOf(text: string): string {
  return /(?<![\d.#-])([245][0-5]\d)(?=[ -]|$)/m.exec(text)?.[1] ?? "";
}

export function classifyReason(input: ClassifyInput): FailureClass {
  const text = input.diagnostic.replace(/\s+/g, " ");
  const codes = [...(input.status ? enhancedCodes(input.status) : []), ...enhancedCodes(text)];
  const reply = String(input.replyCode ?? "") || replyCodeOf(text);
  const specific = codes.find((c) => !/\.0\.0$/.test(c)) ?? codes[0] ?? "";
  // The DSN's own Status decides permanence; a 4xx reply alone only when no code says otherwise.
  const lead = input.status ? (enhancedCodes(input.status)[0] ?? specific) : specific;
  const transient = lead ? lead.startsWith("4") : reply.startsWith("4");

  if (FULL.test(text) || /^\d\.2\.2$/.test(specific)) return { type: "soft", reason: "mailbox_full" };
  if (LOCAL_DELIVERY_FAILED.test(text)) return { type: "soft", reason: "system" };
  const command = (input.command ?? lastCommand(text)).toUpperCase();
  // X.1.7 / X.1.8: our sender address or its domain is bad. An answer to MAIL FROM (or to the
  // greeting) is about us too, whatever it names: the recipient was not yet given.
  const aboutUs =
    ABOUT_US.test(text) || codes.some((c) => /^\d\.1\.[78]$/.test(c)) || /^(?:MAIL|HELO|EHLO)/.test(command);
  const hard = aboutUs ? undefined : hardByText(text);
  // A report that gave up (Action: failed) on a 4.1.1 "bad destination mailbox" answer: the server
  // said "no such user" at every retry until the queue expired (Postfix's soft_bounce and its 450
  // unknown-recipient codes end so), so the mailbox did not appear in days.
  if (
    input.final &&
    lead === "4.1.1" &&
    (hard === "user_unknown" || hard === "mailbox_unknown" || hard === "no_valid_recipients") &&
    !command.startsWith("DATA")
  )
    return { type: "hard", reason: "user_unknown" };
  if (hard && transient) return { type: "soft", reason: TRANSIENT_REASON[hard] ?? hard };
  const permanent = lead ? lead.startsWith("5") : reply.startsWith("5");
  if (hard === "no_valid_recipients" && !lead && !reply && !command.startsWith("DATA"))
    return { type: "hard", reason: "user_unknown" };
  if (hard === "user_unknown" || hard === "bad_domain" || hard === "no_valid_recipients") {
    // "User unknown" said to DATA, or with no command or address code to confirm it, is how
    // content filters and appliances often refuse a message: the mailbox may well exist.
    const leadConfirms = ADDRESS_CODES.test(lead) || (hard === "bad_domain" && /^5\.4\.4$/.test(lead));
    const confirmed = command.startsWith("DATA")
      ? leadConfirms
      : command.startsWith("RCPT") ||
        leadConfirms ||
        codes.some((c) => ADDRESS_CODES.test(c)) ||
        // 551 "user not local" and 553 "mailbox name not allowed" only answer an address.
        /^55[13]$/.test(reply);
    if (confirmed) return { type: "hard", reason: hard === "bad_domain" ? "host_unknown" : "user_unknown" };
  } else if (hard === "mailbox_unknown" || hard === "invalid_userid" || hard === "check_address") {
    // A report that quotes no code at all is a final one (delays are typed apart), as for DNS below.
    const stageFits = !command.startsWith("DATA") || NO_ACCOUNT.test(text);
    if (stageFits && (hard === "mailbox_unknown" || permanent || (!lead && !reply)))
      return { type: "hard", reason: "user_unknown" };
  } else if (hard === "access_denied") {
    if (!command.startsWith("DATA") && /^55[04]$/.test(reply) && codes.some((c) => /^5\.[47]\.1$/.test(c)))
      return { type: "hard", reason: "user_unknown" };
  } else if (hard === "dns_not_found") {
    // A 4.x.x code already made it soft above. A report with no code at all is a final one (delay
    // notices are typed apart), as DMA's and qmail's NXDOMAIN bounces are: only retry words keep
    // it soft.
    if ((permanent || (!lead && !reply)) && !DNS_FAILED.test(text))
      return { type: "hard", reason: "host_unknown" };
  } else if (hard) return { type: "hard", reason: hard };
  // RFC 3463 X.4.4 "unable to route": permanent when DNS holds no MX and no A for the domain.
  const unroutable = lead === "5.4.4" || specific === "5.4.4";
  if (unroutable && !aboutUs && (hard === undefined || hard === "dns_not_found") && !DNS_FAILED.test(text))
    return { type: "hard", reason: "host_unknown" };
  const soft = SOFT_RULES.find(([, pattern]) => pattern.test(text));
  if (soft) return { type: "soft", reason: soft[0] };
  if (
    !aboutUs &&
    hard === undefined &&
    ADDRESS_REFUSED.test(text) &&
    !command.startsWith("DATA") &&
    /^55[03]$/.test(reply) &&
    (!lead || /^5\.(?:0\.0|5\.0|1\.\d+)$/.test(lead))
  )
    return { type: "hard", reason: "user_unknown" };
  if (
    hard === "user_unknown" ||
    hard === "mailbox_unknown" ||
    hard === "invalid_userid" ||
    hard === "check_address" ||
    hard === "no_valid_recipients"
  )
    return { type: "soft", reason: "filtered" };
  if (!aboutUs && !transient) {
    const byCode = codes.map((c) => HARD_CODES[c]).find((r) => r !== undefined);
    if (byCode) return { type: "hard", reason: byCode };
  }
  const byCode = CODE_REASONS.find(([pattern]) => pattern.test(specific));
  if (byCode) return { type: "soft", reason: byCode[1] };
  return { type: "soft", reason: transient ? "temporary" : "other" };
}

/** The last SMTP command the text says an answer replied to. */
export function lastCommand(text: string): string {
  const transcript = failedInTranscript(text);
  if (transcript) return transcript;
  const found = [
    ...text.matchAll(
      /(?:in reply to|after)\s*(?:end of\s+)?(rcpt|data|mail|helo|ehlo|starttls|quit)\b|\b(rcpt)[ _]to\b|\b(does not like recipient|server has rejected (?:the )?(?:recipient )?address)\b|\b(sender was rejected|does not like sender)\b|\b(failed after i sent the message)\b/gi,
    ),
  ];
  const last = found.at(-1);
  if (!last) return "";
  // Messaging Server's "Remote SMTP server has rejected address" names the RCPT stage too.
  // qmail-remote names the stage in its own words: "X does not like recipient." (RCPT), "Connected
  // to X but sender was rejected." (MAIL), "X failed after I sent the message." (DATA).
  if (last[3]) return "RCPT";
  if (last[4]) return "MAIL";
  if (last[5]) return "DATA";
  return last[1] ?? last[2] ?? "";
}

/**
 * In a session transcript (">>> RCPT To:<a>", "<<< 550 ..."), the command the first failure of the
 * last failed session answered.
 * With pipelining (RFC 2920) a client sends RCPT and DATA before reading either answer, and the
 * answers come back in order: the 550 after ">>> DATA" may be RCPT's. Replies are matched to
 * commands first in, first out; a reply's continuation lines ("550-") are not an answer of their own.
 */
function failedInTranscript(text: string): string {
  if (!text.includes(">>>") || !text.includes("<<<")) return "";
  // A transcript may hold sessions with several hosts ("While talking to ..."): the last one that
  // failed is the one that ended delivery.
  const sessions = text.split(/while talking to/i).map(firstFailureIn);
  return sessions.filter((c) => c !== "").at(-1) ?? "";
}

function firstFailureIn(text: string): string {
  const items = [...text.matchAll(/(>>>|<<<)\s*([A-Za-z]+|\d{3}(?=[ -]|$)-?)/g)]
    .map((m) => ({ sent: m[1] === ">>>", token: (m[2] ?? "").toUpperCase() }))
    // A reply's continuation lines ("550-") are not an answer of their own.
    .filter((item) => item.sent || /^\d{3}$/.test(item.token));
  // Commands not answered yet are pending[head..]: a queue, so answering one never copies the rest.
  const pending: string[] = [];
  let head = 0;
  for (let i = 0; i < items.length; ) {
    const item = items[i];
    if (item?.sent) {
      pending.push(item.token);
      i++;
      continue;
    }
    let j = i;
    while (j < items.length && !items[j]?.sent) j++;
    const replies = items.slice(i, j).map((r) => r.token);
    // More answers than shown commands: the first ones answer commands the transcript left out
    // (sendmail shows only the last command of a pipelined group).
    const unseen = Math.max(0, replies.length - (pending.length - head));
    for (const [k, code] of replies.entries()) {
      if (/^[45]/.test(code)) return k < unseen ? "UNSHOWN" : (pending[head + k - unseen] ?? "UNSHOWN");
    }
    head += replies.length - unseen;
    i = j;
  }
  return "";
}

function hardByText(text: string): string | undefined {
  if (USER_UNKNOWN_STRONG.test(text)) return "mailbox_unknown";
  if (ACCOUNT_OR_DOMAIN.test(text)) return "host_unknown";
  if (USER_UNKNOWN.test(text)) return "user_unknown";
  if (NO_VALID_RECIPIENTS.test(text)) return "no_valid_recipients";
  if (INVALID_USERID.test(text)) return "invalid_userid";
  if (CHECK_ADDRESS.test(text)) return "check_address";
  if (RECIPIENT_ACCESS_DENIED.test(text)) return "access_denied";
  if (HOST_UNKNOWN.test(text)) return "host_unknown";
  // The literal first: a scan for it is fast, where the name before it would be tried at every word.
  if (/does ?n[o']?t exist/i.test(text) && DOMAIN_NAMED_GONE.test(text)) return "dns_not_found";
  if (DNS_NOT_FOUND.test(text)) return "dns_not_found";
  if (BAD_DOMAIN.test(text)) return "bad_domain";
  if (MOVED.test(text)) return "has_moved";
  if (NOT_ACCEPT.test(text)) return "not_accept";
  return undefined;
}

export interface SmtpFailure extends FailureClass {
  /** Retrying will not help (a 5xx answer). */
  permanent: boolean;
  /** A 5.7.x policy or authentication refusal: never suppresses, pauses the send when it repeats. */
  policy: boolean;
}

/**
 * Classifies a synchronous SMTP answer (nodemailer errors carry `responseCode`, `response` and the
 * `command` it answered, e.g. "RCPT TO"; an unknown-user answer counts as hard only at RCPT or with
 * an X.1.x code).
 */
export function classifySmtpError(err: {
  responseCode?: number;
  response?: string;
  command?: string;
}): SmtpFailure {
  const code = err.responseCode;
  const response = err.response ?? "";
  const command = err.command;
  if (code === undefined || code < 500 || code > 599) {
    const reason = code === undefined ? "network" : classifyReason({ diagnostic: response }).reason;
    return { type: "soft", reason, permanent: false, policy: false };
  }
  const result = classifyReason({ replyCode: code, diagnostic: response, ...(command ? { command } : {}) });
  const policy = result.type === "soft" && enhancedCodes(response).some((c) => c.startsWith("5.7."));
  return { ...result, permanent: true, policy };
}
