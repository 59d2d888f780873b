-- The edge no longer opens slipway.db: the route version lives in the route store it reads
-- (<data-dir>/edge/routes.db), and what it applied, what still drains and its counters in the
-- state file it writes (<data-dir>/edge-state/state.json). edge_routes stays: it is the API's
-- record of the table, published to the route store at every start.
DROP TABLE edge_meta;
DROP TABLE edge_draining;
DELETE FROM meta WHERE key = 'edge_stats';
