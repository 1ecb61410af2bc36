-- The population published for a territory itself (an EPCI's, by DGCL), beside the sum of
-- its communes' populations légales; NULL where none is published. Filled when the store's
-- reference data is replaced by the edition that carries it.
ALTER TABLE territories ADD COLUMN population_published INTEGER CHECK (population_published >= 0);
