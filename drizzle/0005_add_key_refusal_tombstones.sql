ALTER TABLE "holds" ADD COLUMN "refusal" jsonb;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "refusal" jsonb;