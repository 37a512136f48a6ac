ALTER TABLE "deliveries" ADD COLUMN "provider_message_id" text;--> statement-breakpoint
ALTER TABLE "issues" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "deliveries_provider_message_idx" ON "deliveries" USING btree ("provider_message_id");--> statement-breakpoint
-- Issues that already went to readers were published when their first real send was made.
UPDATE "issues" SET "published_at" = s.first FROM (SELECT "issue_id", min(coalesce("started_at", "created_at")) AS first FROM "sends" WHERE NOT "is_test" GROUP BY "issue_id") s WHERE s."issue_id" = "issues"."id";
