-- Indexes on actors that only queries use, so that a large import does not maintain the
-- others (each secondary index cost about a second per 500 000 imported actors).
--
-- 1. No query selects actors by commune: the map, the territory figures and the exports are
--    answered from the in-memory snapshot.
DROP INDEX actors_commune;
-- 2. Almost every actor is published, so an index of every status served nothing (the
--    snapshot reads all published actors, a scan). The moderation lists ask for pending or
--    archived actors: those only are indexed.
DROP INDEX actors_status;
CREATE INDEX actors_unpublished ON actors (status, id) WHERE status <> 'published';
