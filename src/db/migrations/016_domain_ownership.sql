-- Ownership proof of custom domains added by a non-admin token: a random token the tenant
-- publishes as TXT _slipway-challenge.<hostname> = "slipway-verification=<token>". NULL for
-- domains an admin added (the operator is trusted) and for those added before this migration.
ALTER TABLE domains ADD COLUMN ownership_token TEXT;
