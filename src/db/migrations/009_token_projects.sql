-- A token limited to projects is bound to their ids, not their names: a project that is deleted
-- and created again under the same name is another project, and old tokens do not reach it.
ALTER TABLE tokens ADD COLUMN limited INTEGER NOT NULL DEFAULT 0 CHECK (limited IN (0, 1));

-- The projects of a limited token. `project_id` is NULL while no project of that name exists (a
-- token minted ahead of its project) and is set when that project is created. The row goes with
-- its project, so a grant never passes to a later project that takes the name.
CREATE TABLE token_projects (
  token_id   TEXT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  project_id TEXT REFERENCES projects (id) ON DELETE CASCADE,
  PRIMARY KEY (token_id, name)
) WITHOUT ROWID;
CREATE INDEX token_projects_pending ON token_projects (name) WHERE project_id IS NULL;
CREATE INDEX token_projects_project ON token_projects (project_id);

UPDATE tokens SET limited = 1 WHERE projects IS NOT NULL;

-- Names become ids. A name of which a project was deleted after the token was minted (the activity
-- log records every deletion) meant that project: the grant is dropped, whether or not a project
-- of that name exists again. Otherwise it binds to the project of that name, or waits for it.
INSERT INTO token_projects (token_id, name, project_id)
SELECT t.id, j.value, p.id
FROM tokens AS t
JOIN json_each(t.projects) AS j
LEFT JOIN projects AS p ON p.name = j.value
WHERE t.projects IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM activity AS a
    WHERE a.action = 'project.delete' AND a.target = j.value AND a.created_at >= t.created_at
  );

ALTER TABLE tokens DROP COLUMN projects;
