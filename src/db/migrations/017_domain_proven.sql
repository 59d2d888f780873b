-- When a domain first passed its checks (any status past pending_dns). A domain a deploy token
-- added that never did is an unproven claim: never routed, and it lapses after a week so that it
-- cannot keep a name from its real owner (src/domains/service.ts).
ALTER TABLE domains ADD COLUMN proven_at TEXT;
UPDATE domains SET proven_at = updated_at WHERE status != 'pending_dns';
