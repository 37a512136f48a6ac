import {
  arr,
  bracketed,
  complaintBounce,
  failureBounce,
  obj,
  type ProviderEvent,
  providerRecipient,
  str,
} from "./event.js";

/**
 * Amazon SES bounce and complaint notifications (the JSON in an SNS message's `Message`; both the
 * identity notifications' `notificationType` and event publishing's `eventType` shapes). One event
 * per recipient. SES echoes our headers (`mail.headers`, `mail.commonHeaders.messageId`), and its
 * own id (`mail.messageId`) is the one its SMTP interface gave in the 250 answer.
 */
export function sesEvents(message: unknown): ProviderEvent[] {
  const note = obj(message);
  const kind = str(note.notificationType) || str(note.eventType);
  const mail = obj(note.mail);
  const sesId = str(mail.messageId);
  const providerMessageIds = sesId ? [sesId] : [];
  const headerId = arr(mail.headers)
    .map(obj)
    .find((h) => str(h.name).toLowerCase() === "message-id");
  const messageId = bracketed(str(headerId?.value)) ?? bracketed(obj(mail.commonHeaders).messageId);
  const common = { provider: "ses" as const, providerMessageIds, ...(messageId ? { messageId } : {}) };

  if (kind === "Bounce") {
    const bounce = obj(note.bounce);
    const temporary = str(bounce.bounceType) !== "Permanent";
    const subType = str(bounce.bounceSubType);
    const feedbackId = str(bounce.feedbackId) || sesId;
    return arr(bounce.bouncedRecipients).flatMap((entry) => {
      const r = obj(entry);
      const address = str(r.emailAddress);
      if (!address) return [];
      const recipient = providerRecipient({
        address,
        status: str(r.status) || (temporary ? "" : (subTypeStatus[subType] ?? "")),
        diagnostic: str(r.diagnosticCode) || `${str(bounce.bounceType)} bounce: ${subType}`,
        temporary,
      });
      return [
        { ...common, bounce: failureBounce(recipient, messageId), eventId: `${feedbackId}:${address}` },
      ];
    });
  }
  if (kind === "Complaint") {
    const complaint = obj(note.complaint);
    const feedbackType = str(complaint.complaintFeedbackType) || "abuse";
    const feedbackId = str(complaint.feedbackId) || sesId;
    return arr(complaint.complainedRecipients).flatMap((entry) => {
      const address = str(obj(entry).emailAddress);
      if (!address) return [];
      const bounce = {
        ...complaintBounce(address, feedbackType),
        ...(messageId ? { originalMessageId: messageId } : {}),
      };
      return [{ ...common, bounce, eventId: `${feedbackId}:${address}` }];
    });
  }
  return [];
}

// SES names the kind of a permanent bounce without a status when it never reached a server: the
// RFC 3463 code for what the subtype says, so the one classifier decides.
const subTypeStatus: Record<string, string> = {
  NoEmail: "5.1.1",
  MailboxFull: "5.2.2",
  MessageTooLarge: "5.3.4",
  ContentRejected: "5.6.0",
  AttachmentRejected: "5.6.0",
};
