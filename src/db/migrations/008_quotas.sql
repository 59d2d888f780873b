-- An admin-set ceiling per project: a deploy token can change a project's size only within it.
-- memory_mb and cpus bound the project's total (instances × per-instance limit).
ALTER TABLE projects ADD COLUMN quota_instances INTEGER NOT NULL DEFAULT 10;
ALTER TABLE projects ADD COLUMN quota_memory_mb INTEGER NOT NULL DEFAULT 8192;
ALTER TABLE projects ADD COLUMN quota_cpus REAL NOT NULL DEFAULT 10;
