-- Facts about this installation, such as the agent id that scopes its Docker objects.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
