ALTER TABLE "sends" ADD COLUMN "approved_rendition" text;--> statement-breakpoint
-- Every send made before the fingerprint was approved for the text it mails now (its copy, or its
-- issue's for sends older than the copy). Same formula as renditionFingerprint (issues/approval.ts).
UPDATE "sends" s SET "approved_rendition" = substr(encode(sha256(convert_to(
    '[' || to_json(coalesce(s."subject", i."subject"))::text || ',' || to_json(coalesce(s."html", i."html"))::text
      || ',' || to_json(coalesce(s."text", i."text"))::text || ']', 'UTF8')), 'hex'), 1, 32)
  FROM "issues" i WHERE i."id" = s."issue_id";
