-- Bulk imports without per-row overhead.
--
-- 1. An INSERT into actors counts without looking at its rows. Keeping a transition table of
--    every inserted row (to tell an empty statement from one that inserted something) copied
--    each row of a large import once more for nothing: the store never runs an INSERT that can
--    insert no row (an import with nothing new skips its INSERT), so the statement alone
--    tells. UPDATE and DELETE keep their transition tables: an UPDATE matching nothing (an
--    unknown id) is common and must not count.
DROP TRIGGER actors_revision_insert ON actors;
CREATE TRIGGER actors_revision_insert AFTER INSERT ON actors
    FOR EACH STATEMENT EXECUTE FUNCTION ancrage_mark_revision();

-- 2. Ids for `n` new actors at once (n >= 1): returns the first of n consecutive ids that no
--    other session will be given. One `nextval` per actor cost a few microseconds each (a
--    million in an import: seconds). The sequence is locked, its increment changed for one call
--    and set back, in the caller's statement: `ALTER SEQUENCE` makes other sessions' `nextval` wait for
--    the end of that transaction, so call it in a transaction of its own (milliseconds), never
--    inside a long one. Ids stay increasing in allocation order, as one `nextval` after
--    another would give them; a reservation whose import rolls back leaves a gap, as a rolled
--    back `nextval` does.
CREATE FUNCTION ancrage_reserve_actor_ids(n BIGINT) RETURNS BIGINT
    LANGUAGE plpgsql AS $$
DECLARE
    seq TEXT := pg_get_serial_sequence('actors', 'id');
    first BIGINT;
BEGIN
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'ancrage_reserve_actor_ids: n must be at least 1, not %', n;
    END IF;
    IF n = 1 THEN
        RETURN nextval(seq);
    END IF;
    -- Locks the sequence first (a change that changes nothing), so that no other session's
    -- nextval comes between the two below; the first one also works on a sequence never used.
    EXECUTE format('ALTER SEQUENCE %s INCREMENT BY 1', seq);
    first := nextval(seq);
    EXECUTE format('ALTER SEQUENCE %s INCREMENT BY %s', seq, n - 1);
    PERFORM nextval(seq);
    EXECUTE format('ALTER SEQUENCE %s INCREMENT BY 1', seq);
    RETURN first;
END;
$$;
