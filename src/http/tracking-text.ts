/**
 * The manage page's words about tracking, in one place so they can move into the message
 * catalogue (i18n) as they are.
 */
export interface TrackingTextOptions {
  clicks: boolean;
  opens: boolean;
  retentionDays: number;
}

export const trackingText = {
  heading: "Reading statistics",
  explanation: (o: TrackingTextOptions) =>
    `When you ${o.clicks && o.opens ? "open our mail or follow a link in it" : o.clicks ? "follow a link in our mail" : "open our mail"}, we record the time, your network address and your browser's name, to learn which stories are read; the records are deleted after ${o.retentionDays} days.`,
  offNow: "You turned this off: your mail has plain links and no tracking image.",
  turnOff: "Turn off for me",
  turnOn: "Turn on again",
  turnedOff: "Done: from the next mail on, your links are plain and nothing is recorded.",
  turnedOn: "Done: reading statistics are on again for you.",
} as const;
