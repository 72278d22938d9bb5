CREATE TYPE "public"."order_status" AS ENUM('CONFIRMED', 'CANCELLED');--> statement-breakpoint
CREATE TABLE "customer_event_tickets" (
	"customer_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"tickets" integer NOT NULL,
	CONSTRAINT "customer_event_tickets_customer_id_event_id_pk" PRIMARY KEY("customer_id","event_id"),
	CONSTRAINT "customer_event_tickets_nonnegative" CHECK ("customer_event_tickets"."tickets" >= 0)
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "sale_opens_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "sale_closes_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "per_customer_limit" integer;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "status" "order_status" DEFAULT 'CONFIRMED' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "cancelled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "customer_event_tickets" ADD CONSTRAINT "customer_event_tickets_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_event_tickets" ADD CONSTRAINT "customer_event_tickets_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "orders_customer_idempotency_uq" ON "orders" USING btree ("customer_id","idempotency_key") WHERE "orders"."idempotency_key" is not null;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_limit_positive" CHECK ("events"."per_customer_limit" is null or "events"."per_customer_limit" > 0);