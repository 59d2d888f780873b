-- The project an ACME order was placed for (null for the API domain), so one project's orders can
-- be capped before they reach the CA's limits on the account all projects share.
ALTER TABLE acme_orders ADD COLUMN project_id TEXT;
CREATE INDEX acme_orders_project ON acme_orders (project_id, created_at);
