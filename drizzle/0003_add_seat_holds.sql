CREATE TYPE "public"."hold_status" AS ENUM('ACTIVE', 'CHECKED_OUT', 'RELEASED', 'EXPIRED');--> statement-breakpoint
CREATE TABLE "hold_tickets" (
	"hold_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"price_cents" integer NOT NULL,
	CONSTRAINT "hold_tickets_hold_id_ticket_id_pk" PRIMARY KEY("hold_id","ticket_id")
);
--> statement-breakpoint
CREATE TABLE "holds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"customer_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"status" "hold_status" DEFAULT 'ACTIVE' NOT NULL,
	"total_cents" integer NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"order_id" uuid,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "hold_minutes" integer;--> statement-breakpoint
ALTER TABLE "tickets" ADD COLUMN "hold_id" uuid;--> statement-breakpoint
ALTER TABLE "hold_tickets" ADD CONSTRAINT "hold_tickets_hold_id_holds_id_fk" FOREIGN KEY ("hold_id") REFERENCES "public"."holds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hold_tickets" ADD CONSTRAINT "hold_tickets_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "holds" ADD CONSTRAINT "holds_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "holds" ADD CONSTRAINT "holds_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "holds" ADD CONSTRAINT "holds_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "hold_tickets_ticket_idx" ON "hold_tickets" USING btree ("ticket_id");--> statement-breakpoint
CREATE INDEX "holds_customer_created_idx" ON "holds" USING btree ("customer_id","created_at","id");--> statement-breakpoint
CREATE INDEX "holds_active_expiry_idx" ON "holds" USING btree ("expires_at") WHERE "holds"."status" = 'ACTIVE';--> statement-breakpoint
CREATE UNIQUE INDEX "holds_customer_idempotency_uq" ON "holds" USING btree ("customer_id","idempotency_key") WHERE "holds"."idempotency_key" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "holds_order_uq" ON "holds" USING btree ("order_id");--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_hold_id_holds_id_fk" FOREIGN KEY ("hold_id") REFERENCES "public"."holds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_hold_minutes_range" CHECK ("events"."hold_minutes" is null or "events"."hold_minutes" between 1 and 60);--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_held_has_hold" CHECK (("tickets"."status" = 'HELD') = ("tickets"."hold_id" is not null));