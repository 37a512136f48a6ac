CREATE TABLE "send_links" (
	"send_id" uuid NOT NULL,
	"link_no" integer NOT NULL,
	"url" text NOT NULL,
	"story_anchor" text,
	"headline" text,
	"canary" boolean DEFAULT false NOT NULL,
	CONSTRAINT "send_links_send_id_link_no_pk" PRIMARY KEY("send_id","link_no")
);
--> statement-breakpoint
CREATE TABLE "send_readership" (
	"send_id" uuid PRIMARY KEY NOT NULL,
	"report" jsonb NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tracking_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "tracking_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"send_id" uuid NOT NULL,
	"delivery_id" bigint NOT NULL,
	"subscriber_id" uuid,
	"kind" text NOT NULL,
	"link_no" integer,
	"method" text NOT NULL,
	"ip" text,
	"user_agent" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"class" text NOT NULL,
	"rule" text NOT NULL,
	CONSTRAINT "tracking_events_kind_check" CHECK (kind in ('click', 'open')),
	CONSTRAINT "tracking_events_class_check" CHECK (class in ('human', 'scanner', 'privacy-proxy', 'unknown'))
);
--> statement-breakpoint
ALTER TABLE "subscribers" ADD COLUMN "tracking" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "send_links" ADD CONSTRAINT "send_links_send_id_sends_id_fk" FOREIGN KEY ("send_id") REFERENCES "public"."sends"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "send_readership" ADD CONSTRAINT "send_readership_send_id_sends_id_fk" FOREIGN KEY ("send_id") REFERENCES "public"."sends"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tracking_events" ADD CONSTRAINT "tracking_events_send_id_sends_id_fk" FOREIGN KEY ("send_id") REFERENCES "public"."sends"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tracking_events" ADD CONSTRAINT "tracking_events_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tracking_events" ADD CONSTRAINT "tracking_events_subscriber_id_subscribers_id_fk" FOREIGN KEY ("subscriber_id") REFERENCES "public"."subscribers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "tracking_events_send_idx" ON "tracking_events" USING btree ("send_id","kind");--> statement-breakpoint
CREATE INDEX "tracking_events_delivery_idx" ON "tracking_events" USING btree ("delivery_id","at");--> statement-breakpoint
CREATE INDEX "tracking_events_at_idx" ON "tracking_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "tracking_events_subscriber_idx" ON "tracking_events" USING btree ("subscriber_id");