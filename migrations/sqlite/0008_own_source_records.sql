-- Every actor with a reference of its own source has that source's record, as imported
-- actors always had: seeded and administration-made ones are then found by their reference
-- too, and the record's key keeps the reference unique.
INSERT OR IGNORE INTO actor_sources (source, source_ref, actor_id)
    SELECT source, source_ref, id FROM actors WHERE source_ref IS NOT NULL;
