-- The container that holds an app instance's network namespace (runtime/holder.ts), when it has
-- one: the app container joined it, it publishes the app's port, and it goes with the app.
ALTER TABLE instances ADD COLUMN holder_id TEXT;
