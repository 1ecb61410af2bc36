-- Actor positions in fixed point, 1e-7 degree (about 1 cm): the form the server reads.
-- `lon` and `lat` stay, equal to lon_e7 / 1e7 and lat_e7 / 1e7, for people and tools that
-- query the store with SQL.
ALTER TABLE actors ADD COLUMN lon_e7 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE actors ADD COLUMN lat_e7 INTEGER NOT NULL DEFAULT 0;
UPDATE actors SET
    lon_e7 = CAST(round(lon * 10000000.0) AS INTEGER),
    lat_e7 = CAST(round(lat * 10000000.0) AS INTEGER);
UPDATE actors SET lon = lon_e7 / 10000000.0, lat = lat_e7 / 10000000.0;
