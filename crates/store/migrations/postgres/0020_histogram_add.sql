-- Adds two stored rollup histograms ("slot:count" pairs, comma-separated, in slot order) slot
-- by slot, so that new tickets' facts move the rollup with one additive upsert per grain and no
-- read before the write. SQLite's ticket writer registers the same function on its connection.
CREATE OR REPLACE FUNCTION opsdesk_histogram_add(a TEXT, b TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(string_agg(slot::text || ':' || n::text, ',' ORDER BY slot), '')
    FROM (
        SELECT split_part(p, ':', 1)::bigint AS slot, sum(split_part(p, ':', 2)::bigint) AS n
        FROM unnest(string_to_array(a || ',' || b, ',')) AS p
        WHERE p <> ''
        GROUP BY 1
    ) AS s
    WHERE n <> 0
$$;
