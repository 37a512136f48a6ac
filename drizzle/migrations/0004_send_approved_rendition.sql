ALTER TABLE "sends" ADD COLUMN "subject" text;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "html" text;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "text" text;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "unapproved_reason" text;--> statement-breakpoint
-- Sends scheduled before the copy existed were approved for the text their issue holds now.
UPDATE "sends" SET "subject" = i."subject", "html" = i."html", "text" = i."text"
  FROM "issues" i WHERE i."id" = "sends"."issue_id" AND "sends"."status" = 'scheduled';
