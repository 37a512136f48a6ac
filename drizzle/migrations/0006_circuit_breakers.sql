ALTER TABLE "bounces" ADD COLUMN "send_id" uuid;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "breaker" text;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "forced_sent" integer;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "forced_complaints" integer;--> statement-breakpoint
ALTER TABLE "sends" ADD COLUMN "forced_hard_bounces" integer;--> statement-breakpoint
-- Reports recorded before this column existed belong to their delivery's send.
UPDATE "bounces" SET "send_id" = "deliveries"."send_id" FROM "deliveries" WHERE "deliveries"."id" = "bounces"."delivery_id";--> statement-breakpoint
ALTER TABLE "bounces" ADD CONSTRAINT "bounces_send_id_sends_id_fk" FOREIGN KEY ("send_id") REFERENCES "public"."sends"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bounces_send_counted_idx" ON "bounces" USING btree ("send_id","type") WHERE "bounces"."counted";--> statement-breakpoint
ALTER TABLE "sends" ADD CONSTRAINT "sends_breaker_check" CHECK (breaker in ('complaints', 'hard-bounces'));