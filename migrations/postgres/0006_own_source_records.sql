-- Every actor with a reference of its own source has that source's record, as imported
-- actors always had: seeded and administration-made ones are then found by their reference
-- too. The record's primary key keeps the reference unique, so the index of the actors'
-- own references, which only enforced that, goes: each import of new actors updated both.
INSERT INTO actor_sources (source, source_ref, actor_id)
    SELECT source, source_ref, id FROM actors WHERE source_ref IS NOT NULL
    ON CONFLICT DO NOTHING;
DROP INDEX actors_source_ref;
