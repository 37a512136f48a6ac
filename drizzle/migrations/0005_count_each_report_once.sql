ALTER TABLE "bounces" ADD COLUMN "counted" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "subscribers" ADD COLUMN "reactivated_at" timestamp with time zone;--> statement-breakpoint
-- Reports recorded before this migration: per delivery, only the most severe failure and the most severe complaint (the earliest of equals) count.
UPDATE "bounces" SET "counted" = false WHERE "delivery_id" IS NULL OR "id" NOT IN (
	SELECT DISTINCT ON ("delivery_id", ("type" = 'complaint')) "id" FROM "bounces" WHERE "delivery_id" IS NOT NULL
	ORDER BY "delivery_id", ("type" = 'complaint'),
		CASE WHEN "type" = 'hard' OR ("type" = 'complaint' AND coalesce("feedback_type", 'abuse') IN ('abuse', 'fraud', 'opt-out')) THEN 0 ELSE 1 END,
		"created_at", "id");--> statement-breakpoint
CREATE UNIQUE INDEX "bounces_counted_key" ON "bounces" USING btree ("delivery_id",("type" = 'complaint')) WHERE "bounces"."counted";--> statement-breakpoint
ALTER TABLE "subscribers" DROP COLUMN "soft_bounces";
