#!/usr/bin/env python3
"""Writes a synthetic SIRENE extract in the real files' layout, for measuring imports.

    scripts/sirene-sample.py DIR [ESTABLISHMENTS]   (default 1 000 000)

DIR receives StockUniteLegale.csv, StockEtablissement.csv and GeolocalisationEtablissement.csv:
the stocks `,`-separated and the geolocation `;`-separated, with the real headers (a subset of
the columns plus extra ones, in another order). Deterministic. About 60 % of establishments
belong to legal units of the ESS, 90 % of those are active; a few are natural persons or not
diffusible; every establishment of a real commune (a sample of commune codes and points
taken from seed/data/communes.ndjson.gz), half of them with x_longitude/y_latitude and half
with Lambert-93 x/y only.
"""
import gzip, json, math, os, random, sys

def luhn_complete(prefix, n):
    for k in range(10 ** (n - len(prefix))):
        s = prefix + str(k).zfill(n - len(prefix))
        total = 0
        for i, ch in enumerate(reversed(s)):
            d = int(ch)
            if i % 2 == 1:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if total % 10 == 0:
            return s
    raise ValueError(prefix)

A = 6378137.0
F = 1 / 298.257222101
E = math.sqrt(2 * F - F * F)
def _t(phi): return math.tan(math.pi / 4 - phi / 2) / ((1 - E * math.sin(phi)) / (1 + E * math.sin(phi))) ** (E / 2)
def _m(phi): return math.cos(phi) / math.sqrt(1 - E * E * math.sin(phi) ** 2)
P1, P2, P0, L0 = map(math.radians, (49, 44, 46.5, 3))
N = (math.log(_m(P1)) - math.log(_m(P2))) / (math.log(_t(P1)) - math.log(_t(P2)))
FF = _m(P1) / (N * _t(P1) ** N)
R0 = A * FF * _t(P0) ** N
def lambert93(lon, lat):
    r = A * FF * _t(math.radians(lat)) ** N
    th = N * (math.radians(lon) - L0)
    return 700000 + r * math.sin(th), 6600000 + R0 - r * math.cos(th)

def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(42)
    root = os.path.join(os.path.dirname(__file__), "..", "seed", "data", "communes.ndjson.gz")
    communes = []
    with gzip.open(root, "rt") as f:
        for line in f:
            c = json.loads(line)
            p = c.get("point")
            if p and c["code"][:2] not in ("97", "98") and c.get("population", 0) > 2000:
                communes.append((c["code"], (c.get("postcodes") or ["00000"])[0], c["name"], p))
    nafs = ["88.99B", "88.10A", "88.91A", "94.99Z", "85.59A", "56.10A", "47.79Z", "01.13Z", "90.01Z", "93.12Z"]
    units = n // 3
    forms = ["9220"] * 80 + ["5458", "5560", "8210", "9300", "5710", "1000"] * 3 + ["7210"] * 2
    sirens = []
    with open(os.path.join(out, "StockUniteLegale.csv"), "w") as f:
        f.write("siren,statutDiffusionUniteLegale,unitePurgeeUniteLegale,dateCreationUniteLegale,sigleUniteLegale,"
                "denominationUniteLegale,categorieJuridiqueUniteLegale,activitePrincipaleUniteLegale,"
                "economieSocialeSolidaireUniteLegale,etatAdministratifUniteLegale\n")
        for i in range(units):
            siren = luhn_complete(str(10000000 + i), 9)
            sirens.append(siren)
            ess = "O" if rnd.random() < 0.6 else "N"
            diff = "O" if rnd.random() < 0.98 else "P"
            f.write(f"{siren},{diff},,2010-01-01,,ASSOCIATION EXEMPLE {i},{rnd.choice(forms)},{rnd.choice(nafs)},{ess},A\n")
    with open(os.path.join(out, "StockEtablissement.csv"), "w") as fe, \
         open(os.path.join(out, "GeolocalisationEtablissement.csv"), "w") as fg:
        fe.write("siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
                 "activitePrincipaleRegistreMetiersEtablissement,etablissementSiege,enseigne1Etablissement,"
                 "denominationUsuelleEtablissement,numeroVoieEtablissement,indiceRepetitionEtablissement,"
                 "typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
                 "codeCommuneEtablissement,etatAdministratifEtablissement,activitePrincipaleEtablissement\n")
        fg.write("siret;x;y;qualite_xy;epsg;plg_qp;plg_iris;plg_zus;plg_qva;plg_code_commune;distance_precision;"
                 "qualite_qp;qualite_iris;qualite_zus;qualite_qva;y_latitude;x_longitude\n")
        for i in range(n):
            siren = sirens[i % units]
            nic = str(i // units + 1).zfill(4)
            siret = luhn_complete(siren + nic, 14)
            code, postcode, name, (lon, lat) = communes[rnd.randrange(len(communes))]
            state = "A" if rnd.random() < 0.9 else "F"
            diff = "O" if rnd.random() < 0.99 else "P"
            fe.write(f"{siren},{nic}0,{siret},{diff},2015-03-01,01,,false,LIEU {i},,{rnd.randint(1, 120)},,RUE,"
                     f"DE LA REPUBLIQUE,{postcode},{name.upper().replace(',', ' ')},{code},{state},{rnd.choice(nafs)}\n")
            dlon, dlat = lon + rnd.uniform(-0.002, 0.002), lat + rnd.uniform(-0.002, 0.002)
            if i % 2 == 0:
                fg.write(f"{siret};;;11;2154;;;;;{code};0;;;;;{dlat:.6f};{dlon:.6f}\n")
            else:
                x, y = lambert93(dlon, dlat)
                fg.write(f"{siret};{x:.1f};{y:.1f};12;2154;;;;;{code};0;;;;;;\n")

if __name__ == "__main__":
    main()
