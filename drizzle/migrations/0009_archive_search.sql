CREATE TABLE "archive_stories" (
	"issue_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"anchor" text NOT NULL,
	"headline" text NOT NULL,
	"body" text NOT NULL,
	"html" text NOT NULL,
	"document" "tsvector" NOT NULL,
	CONSTRAINT "archive_stories_issue_id_position_pk" PRIMARY KEY("issue_id","position")
);
--> statement-breakpoint
ALTER TABLE "archive_stories" ADD CONSTRAINT "archive_stories_issue_id_issues_id_fk" FOREIGN KEY ("issue_id") REFERENCES "public"."issues"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "archive_stories_document_idx" ON "archive_stories" USING gin ("document");--> statement-breakpoint
-- Search reads the document of every candidate row: kept in the row itself (compressed only if it must be), while the wide body and HTML go out of line first, so a scan never reads the TOAST table.
ALTER TABLE "archive_stories" ALTER COLUMN "document" SET STORAGE MAIN;
