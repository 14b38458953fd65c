-- Webhook subscriptions: an endpoint may narrow what it receives to one
-- territory (a code at any level: district, street, community, grid) and to
-- categories (catalog refs "M92001" or major classes "M92"); '' means no
-- filter. Owners named "system:<name>" are system subscribers: they receive
-- the events of any case their filters match, where a department's
-- endpoints receive only the events of cases assigned to that department.
ALTER TABLE webhook_endpoints ADD COLUMN territory TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN categories TEXT NOT NULL DEFAULT '';

-- The routing index of active endpoints, derived from their owner and
-- filters, so that fan-out finds every endpoint an event concerns in one
-- index lookup: audience is the owner for a department's endpoint and '*'
-- for a system subscriber; territory and category are one filter value each
-- ('' for none), one row per category. An event looks up its department and
-- '*', its territory's codes from district to grid and '', its category
-- ref, major class and ''. Rows are replaced when the filters change and
-- deleted when the endpoint is disabled.
CREATE TABLE webhook_routes (
    audience    TEXT   NOT NULL,
    territory   TEXT   NOT NULL,
    category    TEXT   NOT NULL,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    PRIMARY KEY (audience, territory, category, endpoint_id)
);
CREATE INDEX webhook_routes_endpoint ON webhook_routes (endpoint_id);

-- Endpoints created before subscriptions existed are unfiltered.
INSERT INTO webhook_routes (audience, territory, category, endpoint_id)
    SELECT CASE WHEN owner LIKE 'system:%' THEN '*' ELSE owner END, '', '', id FROM webhook_endpoints WHERE active;
